import BotyardClient
import Crypto
import Foundation
import Shared
import TestSupport
import Testing

@Suite("Credential secrecy")
struct CredentialSecrecyTests {
    /// What `botyard` (the CLI next to this test binary) prints for `arguments`; the test fails
    /// unless it succeeds.
    static func botyard(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = WorkerProcess.binaries.appendingPathComponent("botyard")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "botyard \(arguments.joined(separator: " "))")
    }

    /// A UI bot that logs on with its account's credential: it checks the password against its
    /// SHA-256 (the password itself is never in a bot definition), says so in its log, and exits
    /// with `exitCode`; a wrong or missing password exits 1.
    static func login(_ name: String, passwordHash: String, exitCode: Int = 0, retry: RetryPolicy? = nil)
        -> CreateBotRequest
    {
        let script = #"test "$(printf %s "$BOTYARD_CREDENTIAL_PASSWORD" | sha256sum | cut -c1-64)" = "$0" || exit 1; "#
            + #"echo "logged on as $BOTYARD_CREDENTIAL_USERNAME with $BOTYARD_CREDENTIAL_PASSWORD"; exit "# + "\(exitCode)"
        return CreateBotRequest(name: name, argv: ["/bin/sh", "-c", script, passwordHash], needsUI: true,
                                timeoutSeconds: 30, retry: retry)
    }

    @Test("a planted password reaches the UI bots launched to its account or to their group, and no queue (retry and parked ones too), store file, log or API answer holds it")
    func plantedPassword() async throws {
        let password = "Planted-\(UUID().uuidString)"
        let passwordHash = SHA256.hash(data: Data(password.utf8)).map { String(format: "%02x", $0) }.joined()
        try await TestBroker.withVirtualHost { url in try await withScratchFolder("botyard-secrecy") { folder in
            // The keys as an operator makes them, in a folder of their own, apart from the database.
            let keys = folder.appendingPathComponent("keys")
            try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
            let secretsKey = keys.appendingPathComponent("secrets.key").path
            let groupKey = keys.appendingPathComponent("g1.key").path
            try Self.botyard(["keys", "create", "--output", secretsKey])
            try Self.botyard(["keys", "group", "--secrets-key-file", secretsKey, "--group", "g1", "--output", groupKey])
            let database = folder.appendingPathComponent("store/botyard.sqlite")
            try FileManager.default.createDirectory(at: database.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            let dispatcher = try await DispatcherProcess(url: url, database: database, folder: folder, options: [
                "--secrets-key-file", secretsKey, "--log-level", "debug",
            ])
            try await withTeardown {
                try await WorkerProcesses.with(url: url, folder: folder) { workers in
                    let worker = try await workers.start("secrecy", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:2"])
                        + ["--credential-key-file", groupKey, "--log-level", "debug"])
                    let jobs = try await Self.runJobs(on: dispatcher.client, virtualHost: url.virtualHost,
                                                      password: password, passwordHash: passwordHash)
                    var places = ["dispatcher log": try String(contentsOf: dispatcher.log, encoding: .utf8),
                                  "worker log": worker.logText,
                                  "API answers": try await Self.apiAnswers(dispatcher.client, jobs: jobs)]
                    let queues = try await Self.queueDump(virtualHost: url.virtualHost)
                    // The dump holds the parked job and the one waiting to retry: it reads what the queues hold.
                    #expect(queues["botyard.dead"]?.contains("\"jobID\":\(jobs.parked)") == true)
                    #expect(queues.contains {
                        $0.key.hasPrefix("botyard.retry.") && $0.value.contains("\"jobID\":\(jobs.retrying)")
                    })
                    for (queue, messages) in queues { places["queue \(queue)"] = messages }
                    for file in [database.path, database.path + "-wal", database.path + "-shm"] {
                        places["store file \(file)"] = Self.text(of: file)
                    }
                    let work = WorkerProcess.workDirectory(in: folder)
                    for file in Self.files(under: work) {
                        places["work file \(file.path.dropFirst(work.path.count))"] = Self.text(of: file.path)
                    }
                    let holding = places.filter { $0.value.contains(password) }.map(\.key).sorted()
                    #expect(holding.isEmpty, "the planted password is in \(holding)")
                    // The logs read are the ones that saw the credential go out.
                    #expect(places["dispatcher log"]?.contains("credential sent") == true)
                }
            } teardown: {
                await dispatcher.stop()
            }
        } }
    }

    @Test("a worker holding another group's key cannot open its group's credentials: the run fails to start and says why")
    func wrongGroupKey() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(Self.login("login", passwordHash: "-",
                                                retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
            _ = try await fleet.api.send(.put, "/v1/credentials/h1/robot1", #"{"username": "u", "password": "p"}"#)
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("misconfigured", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1"])
                    + fleet.credentialKeyOptions(group: "other"))
                let job = try await fleet.waitForJob(try await fleet.submit(SubmitJobRequest(bot: "login", group: "g1")))
                #expect(job.state == .dead && job.attempts == 1)
                #expect(job.reason?.contains("no credential for account robot1: a secret sealed for credential reply") == true)
                #expect(job.reason?.hasSuffix("(is the worker's key its group's?)") == true, "\(job.reason ?? "")")
            }
        }
    }

    /// A file's bytes as text, whatever they are.
    static func text(of path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    struct Jobs {
        var all: [Int64]
        var parked: Int64
        var retrying: Int64
    }

    /// A launch to the account and one to the group that succeed, one that fails and is parked,
    /// one that fails and waits two minutes in a retry queue; each bot logs on with the password.
    static func runJobs(on client: DispatcherClient, virtualHost: String, password: String,
                        passwordHash: String) async throws -> Jobs {
        for bot in [login("login", passwordHash: passwordHash),
                    login("login-then-fail", passwordHash: passwordHash, exitCode: 3, retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)),
                    login("login-then-retry", passwordHash: passwordHash, exitCode: 3,
                          retry: .fixed(maxAttempts: 2, waitMilliseconds: 120_000))] {
            _ = try await client.post("/v1/bots", bot, as: BotDefinition.self)
        }
        try await client.putNoContent("/v1/credentials/h1/robot1",
                                      AccountCredential(username: "svc-robot", password: password))
        func submit(_ request: SubmitJobRequest) async throws -> Int64 {
            try await client.post("/v1/jobs", request, as: JobCreated.self).id
        }
        let targeted = try await submit(SubmitJobRequest(bot: "login", group: "g1", account: "robot1", host: "h1",
                                                         robotQueue: RobotQueuePolicy(waitSeconds: 1, maxAttempts: 30)))
        let grouped = try await submit(SubmitJobRequest(bot: "login", group: "g1"))
        let parked = try await submit(SubmitJobRequest(bot: "login-then-fail", group: "g1"))
        let retrying = try await submit(SubmitJobRequest(bot: "login-then-retry", group: "g1"))
        func wait(_ id: Int64, until done: (JobSnapshot) -> Bool) async throws -> JobSnapshot {
            var job = try await client.get("/v1/jobs/\(id)", as: JobSnapshot.self)
            try await waitUntil(timeout: .seconds(60)) {
                job = try await client.get("/v1/jobs/\(id)", as: JobSnapshot.self)
                return done(job)
            }
            return job
        }
        for id in [targeted, grouped] {
            let job = try await wait(id) { $0.state.isTerminal }
            #expect(job.state == .succeeded && job.ranAs == "robot1", "job \(id): \(job.reason ?? "")")
            #expect(try await client.text("/v1/jobs/\(id)/log").contains("logged on as [redacted] with [redacted]"))
        }
        // Exit code 3: each logged on with the right password before failing.
        #expect(try await wait(parked) { $0.state.isTerminal }.exitCode == 3)
        #expect(try await wait(retrying) { $0.state == .retrying }.exitCode == 3)
        // In botyard.dead and a retry queue once the dispatcher's outbox published them. The management
        // API counts a queue's messages every 5 s (its statistics interval): on a loaded machine two
        // rounds of it may pass before both show.
        try await waitUntil(timeout: .seconds(30)) {
            let queues = try await queueDump(virtualHost: virtualHost).keys
            return queues.contains("botyard.dead") && queues.contains { $0.hasPrefix("botyard.retry.") }
        }
        return Jobs(all: [targeted, grouped, parked, retrying], parked: parked, retrying: retrying)
    }

    /// What the API answers about the jobs, their logs, the credentials, the robot queue, the
    /// workers and the parked jobs.
    static func apiAnswers(_ client: DispatcherClient, jobs: Jobs) async throws -> String {
        var paths = ["/v1/credentials", "/v1/robot-queue", "/v1/workers", "/v1/dead", "/v1/jobs", "/v1/stats"]
        paths += jobs.all.flatMap { ["/v1/jobs/\($0)", "/v1/jobs/\($0)/log"] }
        var answers = ""
        for path in paths { answers += try await client.text(path) }
        return answers
    }

    /// Every message in every queue of `virtualHost` that can be read (left in its queue), by
    /// queue; exclusive queues (workers' control and lease queues) are another connection's and
    /// cannot be. Empty queues are left out.
    static func queueDump(virtualHost: String) async throws -> [String: String] {
        struct Queue: Decodable {
            var name: String
            var exclusive: Bool
            var messages: Int?
        }
        struct Message: Decodable {
            var payload: String
        }
        // Test virtual hosts and Botyard's queues have names that need no escaping in a path.
        let vhost = virtualHost
        let queues = try JSONDecoder().decode([Queue].self, from: try await TestBroker.management(.get, "api/queues/\(vhost)"))
        var dump: [String: String] = [:]
        for queue in queues where !queue.exclusive && (queue.messages ?? 0) > 0 {
            let messages = try await TestBroker.management(.post, "api/queues/\(vhost)/\(queue.name)/get", body: """
                {"count": 10000, "ackmode": "ack_requeue_true", "encoding": "auto", "truncate": 1000000}
                """)
            // Payloads as they are, and the whole answer (headers too) as the broker wrote it.
            let payloads = try JSONDecoder().decode([Message].self, from: messages).map(\.payload)
            dump[queue.name] = payloads.joined(separator: "\n") + "\n" + String(decoding: messages, as: UTF8.self)
        }
        return dump
    }

    /// The regular files under `folder`, recursively.
    static func files(under folder: URL) -> [URL] {
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        return (walker?.allObjects as? [URL] ?? []).filter {
            (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
        }
    }
}
