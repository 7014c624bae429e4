import Foundation
import Hummingbird
import Shared
import TestSupport
import Testing

/// Targeted launches against a dispatcher and real worker processes: the robot queue's three
/// events, its wait and its max attempts.
@Suite("Robot queue with live workers", .serialized)
struct RobotQueueTests {
    static func target(_ bot: String, host: String = "h1", wait: Int = 0, maxAttempts: Int = 10) -> SubmitJobRequest {
        SubmitJobRequest(bot: bot, group: "g1", account: "robot1", host: host,
                         robotQueue: RobotQueuePolicy(waitSeconds: wait, maxAttempts: maxAttempts))
    }

    /// A bot that runs until the file `go` exists in `folder`.
    static func hold(_ folder: URL) -> CreateBotRequest {
        CreateBotRequest(name: "hold", argv: ["/bin/sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done",
                                              folder.appendingPathComponent("go").path], timeoutSeconds: 60)
    }

    @Test("a launch for an account at its limit waits in the robot queue and starts when the run there finishes")
    func runFinished() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(Self.hold(fleet.folder))
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("rq", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "rq")?.served == true }
                let holding = try await fleet.submit(Self.target("hold"))
                try await fleet.waitForJob(holding) { $0.state == .running }

                let waiting = try await fleet.submit(Self.target("quick"))
                let entry = try #require(try await fleet.robotQueue().first)
                #expect(entry.jobID == waiting && entry.bot == "quick" && entry.botVersion == "1" && !entry.needsUI)
                #expect(entry.host == "h1" && entry.account == "robot1" && entry.attempts == 1)
                #expect(entry.launchMethod == .api && entry.initiator == "api")
                #expect(entry.reason == "account robot1 on h1 is at its limit (1 of 1 running)")

                FileManager.default.createFile(atPath: fleet.folder.appendingPathComponent("go").path, contents: nil)
                let job = try await fleet.waitForJob(waiting)
                #expect(job.state == .succeeded && job.ranAs == "robot1" && job.host == "h1")
                #expect(job.history?.contains { $0.reason == "dispatched to account robot1 on h1 after 2 tries in the robot queue" } == true)
                #expect(try await fleet.robotQueue().isEmpty)
            }
        }
    }

    @Test("a UI launch without credentials waits until they are stored; the bot gets them, and neither the API nor the bot's log and outputs show them")
    func credentialsChange() async throws {
        try await Fleet.run(workers: 0) { fleet in
            // A careless bot: it prints its password, and writes it to an output.
            let script = #"echo "USER=$BOTYARD_CREDENTIAL_USERNAME" >> "$BOTYARD_OUTPUT"; "#
                + #"printf %s "$BOTYARD_CREDENTIAL_PASSWORD" | wc -c | sed 's/^/PASSWORD_LENGTH=/' >> "$BOTYARD_OUTPUT"; "#
                + #"echo "LEAK=pw:$BOTYARD_CREDENTIAL_PASSWORD" >> "$BOTYARD_OUTPUT"; "#
                + #"echo "logging in with $BOTYARD_CREDENTIAL_PASSWORD""#
            try await fleet.register(CreateBotRequest(name: "desktop", argv: ["/bin/sh", "-c", script], needsUI: true,
                                                      timeoutSeconds: 30))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let worker = try await workers.start("creds", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:2"])
                                                   + fleet.credentialKeyOptions())
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "creds")?.served == true }
                let id = try await fleet.submit(Self.target("desktop"))
                #expect(try await fleet.robotQueue().first?.reason == "missing credentials for account robot1 on h1")

                let stored = try await fleet.api.send(.put, "/v1/credentials/h1/robot1",
                                                      #"{"username": "svc-robot", "password": "s3cret-pw"}"#)
                #expect(stored.status == .noContent)
                let job = try await fleet.waitForJob(id)
                #expect(job.state == .succeeded)
                #expect(job.outputs == ["USER": "[redacted]", "PASSWORD_LENGTH": "9", "LEAK": "pw:[redacted]"])
                let log = String(buffer: try await fleet.api.send(.get, "/v1/jobs/\(id)/log").body)
                #expect(log.contains("logging in with [redacted]"))
                let listed = try await fleet.api.send(.get, "/v1/credentials")
                #expect(try listed.decode([CredentialSummary].self).map(\.username) == ["svc-robot"])
                #expect(!String(buffer: listed.body).contains("s3cret"))
                #expect(!String(buffer: try await fleet.api.send(.get, "/v1/jobs/\(id)").body).contains("s3cret"))
                #expect(!String(buffer: try await fleet.api.send(.get, "/v1/jobs/\(id)/log").body).contains("s3cret"))
                #expect(!worker.logText.contains("s3cret"))
            }
        }
    }

    @Test("a launch for an inactive host waits until a worker on that host comes up")
    func hostActive() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            let id = try await fleet.submit(Self.target("quick", host: "h2"))
            #expect(try await fleet.robotQueue().first?.reason == "host h2 is not active")
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("late", AdmissionTests.workerOptions(host: "h2", accounts: ["robot1"]))
                let job = try await fleet.waitForJob(id)
                #expect(job.state == .succeeded && job.host == "h2")
            }
        }
    }

    @Test("a runtime that fails to start sends the launch back to the robot queue, until its max attempts")
    func runtimeFailedToStart() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "broken", argv: ["/nonexistent/robot-runtime"], timeoutSeconds: 30))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("broken", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "broken")?.served == true }
                // More tries than the bot's 3 attempts: a runtime that never started uses none.
                let job = try await fleet.waitForJob(try await fleet.submit(Self.target("broken", maxAttempts: 4)))
                #expect(job.state == .dead && job.attempts == 0)
                #expect(job.reason?.hasPrefix("robot queue: gave up after 4 tries; last: runtime failed to start on h1: cannot start /nonexistent/robot-runtime") == true)
                #expect(job.history?.contains { $0.reason.hasPrefix("back in the robot queue: runtime failed to start") } == true)
            }
        }
    }

    @Test("an event before the wait is over is answered when the wait ends, and after its max attempts the launch is dead")
    func waitAndMaxAttempts() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(Self.hold(fleet.folder))
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("patient", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "patient")?.served == true }
                let holding = try await fleet.submit(Self.target("hold"))
                try await fleet.waitForJob(holding) { $0.state == .running }

                let clock = ContinuousClock()
                let launched = clock.now
                let id = try await fleet.submit(Self.target("quick", wait: 2, maxAttempts: 2))
                // A credentials change is an event; the entry's wait is not over yet.
                _ = try await fleet.api.send(.put, "/v1/credentials/h1/robot1", #"{"username": "u", "password": "p"}"#)
                try await Task.sleep(for: .milliseconds(1_000))
                #expect(try await fleet.robotQueue().first?.attempts == 1)

                let job = try await fleet.waitForJob(id, timeout: .seconds(10))
                #expect(clock.now - launched >= .seconds(2))
                #expect(job.state == .dead)
                #expect(job.reason == "robot queue: gave up after 2 tries; last: account robot1 on h1 is at its limit (1 of 1 running)")
                FileManager.default.createFile(atPath: fleet.folder.appendingPathComponent("go").path, contents: nil)
                try await fleet.waitForJob(holding)
            }
        }
    }
}

extension RobotQueueTests {
    @Test("waiting launches are tried in the order they were submitted, and only on an event: each starts when the run before it ends")
    func inOrder() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(Self.hold(fleet.folder))
            try await fleet.register(bot.bot("stamp", seconds: 0.5))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("orderly", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "orderly")?.served == true }
                let holding = try await fleet.submit(Self.target("hold"))
                try await fleet.waitForJob(holding) { $0.state == .running }

                var ids: [Int64] = []
                for tag in ["first", "second", "third"] {
                    var launch = Self.target("stamp")
                    launch.inputs = ["TAG": tag]
                    ids.append(try await fleet.submit(launch))
                }
                #expect(try await fleet.robotQueue().map(\.jobID) == ids)
                // No event, no try, however long they wait.
                try await Task.sleep(for: .seconds(1.5))
                #expect(try await fleet.robotQueue().map(\.attempts) == [1, 1, 1])

                FileManager.default.createFile(atPath: fleet.folder.appendingPathComponent("go").path, contents: nil)
                for id in ids { #expect(try await fleet.waitForJob(id, timeout: .seconds(30)).state == .succeeded) }
                let runs = bot.runs()
                #expect(runs.map(\.tag) == ["first", "second", "third"])
                #expect(StampBot.peakOverlap(runs) == 1)
            }
        }
    }
}

extension Fleet {
    func robotQueue() async throws -> [RobotQueueEntry] {
        try await api.send(.get, "/v1/robot-queue").decode([RobotQueueEntry].self)
    }
}
