import Foundation
import Shared
import TestSupport
import Testing

@testable import Dispatcher

/// Dispatcher → RabbitMQ → worker → outcome, against the real broker.
@Suite("Core path")
struct CorePathTests {
    @Test("a job runs, succeeds, and its exit code, outputs and log are readable through the API")
    func success() async throws {
        try await Fleet.run { fleet in
            try await fleet.register(CreateBotRequest(name: "greeter", argv: ["/bin/sh", "-c", """
                echo "hello $BOTYARD_INPUT_WHO from attempt $BOTYARD_ATTEMPT"
                echo "GREETING=hello $BOTYARD_INPUT_WHO" > "$BOTYARD_OUTPUT"
                """], timeoutSeconds: 30))
            let id = try await fleet.submit(SubmitJobRequest(bot: "greeter", group: "g1", inputs: ["WHO": "world"]))
            let job = try await fleet.waitForJob(id)
            #expect(job.state == .succeeded)
            #expect(job.exitCode == 0)
            #expect(job.attempts == 1)
            #expect(job.outputs == ["GREETING": "hello world"])
            #expect(job.host == "host0" && job.ranAs == "robot0")
            #expect(job.history?.map(\.to) == [.pending, .queued, .running, .succeeded])
            let log = try await fleet.api.send(.get, "/v1/jobs/\(id)/log")
            #expect(log.status == .ok)
            #expect(String(buffer: log.body) == "hello world from attempt 1\n")
        }
    }

    @Test("a bot that always fails is attempted exactly N times, its wait apart, then is dead and parked")
    func exhaustsAttempts() async throws {
        try await Fleet.run { fleet in
            let stamps = fleet.folder.appendingPathComponent("starts").path
            try await fleet.register(CreateBotRequest(
                name: "doomed", argv: ["/bin/sh", "-c", "date +%s%N >> \(stamps); echo failing; exit 4"],
                timeoutSeconds: 30, retry: .fixed(maxAttempts: 3, waitMilliseconds: 1_000)))
            let id = try await fleet.submit(SubmitJobRequest(bot: "doomed", group: "g1"))
            let job = try await fleet.waitForJob(id)
            #expect(job.state == .dead)
            #expect(job.attempts == 3)
            #expect(job.exitCode == 4)
            #expect(job.reason == "attempts exhausted (3 of 3); last: exit code 4")

            let starts = try String(contentsOfFile: stamps, encoding: .utf8).split(separator: "\n").compactMap { Int64($0) }
            #expect(starts.count == 3)
            for (earlier, later) in zip(starts, starts.dropFirst()) {
                #expect(later - earlier >= 1_000_000_000, "attempts \(Double(later - earlier) / 1e9) s apart")
            }
            let history = try #require(job.history)
            #expect(history.filter { $0.to == .running }.map(\.attempt) == [1, 2, 3])
            #expect(history.filter { $0.to == .retrying }.count == 2)

            let parked = try await deadMessage(for: id, url: fleet.url)
            #expect(parked.envelope.attempt == 3)
            #expect(parked.reason == job.reason)
        }
    }

    @Test("a dead job requeued after the fault is fixed runs again with fresh attempts")
    func requeueDeadJob() async throws {
        try await Fleet.run { fleet in
            let fix = fleet.folder.appendingPathComponent("fixed").path
            try await fleet.register(CreateBotRequest(name: "needs-fix", argv: ["/bin/test", "-e", fix], timeoutSeconds: 30,
                                                      retry: .fixed(maxAttempts: 2, waitMilliseconds: 100)))
            let id = try await fleet.submit(SubmitJobRequest(bot: "needs-fix", group: "g1"))
            #expect(try await fleet.waitForJob(id).state == .dead)
            let listed = try await fleet.api.send(.get, "/v1/dead").decode([JobSnapshot].self)
            #expect(listed.map(\.id) == [id])

            _ = FileManager.default.createFile(atPath: fix, contents: nil)
            let response = try await fleet.api.send(.post, "/v1/dead/\(id)/requeue")
            #expect(response.status == .created)
            let fresh = try response.decode(JobCreated.self).id
            let job = try await fleet.waitForJob(fresh)
            #expect(job.state == .succeeded && job.attempts == 1)
            #expect(try await fleet.api.send(.post, "/v1/dead/\(fresh)/requeue").status == .conflict)
        }
    }

    @Test("a dead job can be inspected with its state, reason and history; an id that is no dead job is answered 404 not_found")
    func inspectDeadJob() async throws {
        try await Fleet.run { fleet in
            try await fleet.register(CreateBotRequest(name: "failing", argv: ["/bin/sh", "-c", "exit 3"],
                                                      timeoutSeconds: 30,
                                                      retry: .fixed(maxAttempts: 2, waitMilliseconds: 100)))
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            let id = try await fleet.submit(SubmitJobRequest(bot: "failing", group: "g1"))
            #expect(try await fleet.waitForJob(id).state == .dead)

            let response = try await fleet.api.send(.get, "/v1/dead/\(id)")
            #expect(response.status == .ok)
            let dead = try response.decode(JobSnapshot.self)
            #expect(dead.id == id && dead.bot == "failing" && dead.state == .dead)
            #expect(dead.attempts == 2 && dead.exitCode == 3)
            #expect(dead.reason == "attempts exhausted (2 of 2); last: exit code 3")
            let history = try #require(dead.history)
            #expect(history.filter { $0.to == .running }.map(\.attempt) == [1, 2])
            #expect(history.last?.to == .dead && history.last?.reason == dead.reason)

            let succeeded = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))
            #expect(try await fleet.waitForJob(succeeded).state == .succeeded)
            for other: Int64 in [999_999, succeeded] {  // unknown, and not dead
                let missing = try await fleet.api.send(.get, "/v1/dead/\(other)")
                #expect(missing.status == .notFound)
                let error = try missing.decode(APIErrorBody.self).error
                #expect(error.code == "not_found" && error.message == "dead job \(other) does not exist")
            }
        }
    }

    @Test("a bot past its timeout is killed with its whole process group and the attempt counts as failed")
    func timeout() async throws {
        try await Fleet.run { fleet in
            let pids = fleet.folder.appendingPathComponent("children").path
            try await fleet.register(CreateBotRequest(
                name: "sleeper", argv: ["/bin/sh", "-c", "sleep 300 & echo $! >> \(pids); wait"], timeoutSeconds: 1,
                retry: .fixed(maxAttempts: 2, waitMilliseconds: 0)))
            let id = try await fleet.submit(SubmitJobRequest(bot: "sleeper", group: "g1"))
            let job = try await fleet.waitForJob(id)
            #expect(job.state == .dead)
            #expect(job.attempts == 2)
            #expect(job.history?.contains { $0.reason.contains("attempt 1 failed: timed out after 1 s") } == true)
            let children = try String(contentsOfFile: pids, encoding: .utf8).split(separator: "\n").compactMap { pid_t($0) }
            #expect(children.count == 2)
            for child in children { #expect(!isRunning(child), "child \(child) of the timed-out bot survived") }
        }
    }

    @Test("a job stored by a dispatcher that died before publishing is published by the next one")
    func outboxSurvivesCrash() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("botyard.sqlite").path
        // What a dispatcher leaves behind when it is killed right after the commit: the job and
        // its outbox row, nothing published.
        let bot = BotDefinition(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30)
        let crashed = try await BotyardStore.open(path: path)
        try await crashed.saveBot(bot)
        let stored = try await crashed.submit(SubmitJobRequest(bot: "quick", group: "g1"), bot: bot)
        #expect(try await crashed.outboxCount() == 1)

        try await Fleet.run(databasePath: path) { fleet in
            let job = try await fleet.waitForJob(stored.id)
            #expect(job.state == .succeeded)
            #expect(job.attempts == 1)
            #expect(try await fleet.store.outboxCount() == 0)
        }
    }

    @Test("a job submitted while the broker is unreachable waits, then runs once it is back")
    func brokerDownAtSubmit() async throws {
        let name = "test-down-\(UUID().uuidString.prefix(6).lowercased())"
        let url = try TestBroker.url().with(virtualHost: name)
        // The vhost does not exist yet: every connection to it is refused, as if the broker were down.
        try await Fleet.run(url: url) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            let id = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))
            try await Task.sleep(for: .seconds(1))
            #expect(try await fleet.job(id).state == .pending)
            // The refused connections are counted, each by the dispatcher's connection that tried.
            let metrics = String(buffer: try await fleet.api.send(.get, "/metrics").body)
            let failures = MetricsTests.parse(metrics).filter { $0.name == "botyard_broker_errors_total" }
            #expect(failures.first { $0.labels == ["connection": "publish"] }.map(\.value) ?? 0 >= 1, "\(failures)")
            #expect(failures.first { $0.labels == ["connection": "events"] }.map(\.value) ?? 0 >= 1)
            try await TestBroker.createVirtualHost(name)
            let job = try await fleet.waitForJob(id, timeout: .seconds(30))
            #expect(job.state == .succeeded)
            #expect(job.history?.map(\.to) == [.pending, .queued, .running, .succeeded])
        }
        try? await TestBroker.deleteVirtualHost(name)
    }

    @Test("cancelling a running job stops its bot")
    func cancelRunning() async throws {
        try await Fleet.run { fleet in
            // `sleep` does not look at its stop file: after its 1 s stop grace it gets SIGTERM.
            try await fleet.register(CreateBotRequest(name: "long", argv: ["/bin/sleep", "120"], timeoutSeconds: 300,
                                                      stopGraceSeconds: 1))
            let id = try await fleet.submit(SubmitJobRequest(bot: "long", group: "g1"))
            try await fleet.waitForJob(id) { $0.state == .running }
            let response = try await fleet.api.send(.post, "/v1/jobs/\(id)/cancel")
            #expect(response.status == .ok)
            let started = ContinuousClock.now
            // The job is cancelled at once; the worker then stops the bot and confirms it.
            #expect(try await fleet.job(id).state == .cancelled)
            // Its 1 s grace and SIGTERM, not its 120 s: the bound is loose for a machine the whole suite loads.
            let job = try await fleet.waitForJob(id, timeout: .seconds(30)) { job in
                job.history?.contains { $0.reason.hasPrefix("bot stopped on host0: cancelled while running") } == true
            }
            #expect(job.state == .cancelled)
            #expect(ContinuousClock.now - started < .seconds(30))
            let runs = fleet.folder.appendingPathComponent("worker0/runs").path
            #expect(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0.hasPrefix("\(id)-") }.isEmpty)
        }
    }

    @Test("garbage published into a job queue by another AMQP client ends in botyard.dead with a reason, and the worker keeps consuming")
    func poisonMessage() async throws {
        try await Fleet.run { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            let first = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))
            try await fleet.waitForJob(first)

            // rabbitmq-c's own command-line client, not Botyard's AMQP layer.
            let publisher = Process()
            publisher.executableURL = URL(fileURLWithPath: "/usr/bin/amqp-publish")
            publisher.arguments = ["--url", fleet.url.urlWithPassword, "--exchange", Topology.jobsExchange,
                                   "--routing-key", "g1.normal", "--persistent", "--body", "\u{1}not json at all"]
            try publisher.run()
            await waitUntilGone(timeout: .seconds(30)) { !publisher.isRunning }
            try #require(publisher.terminationStatus == 0, "amqp-publish failed")

            try await waitUntil(timeout: .seconds(10)) {
                try await messagesWaiting(in: [Topology.deadQueue], url: fleet.url) == 1
            }
            let connection = try await AMQPConnection.connect(to: fleet.url, name: "inspector", logger: Fleet.logger)
            let channel = try await connection.openChannel()
            let parked = try #require(try await channel.get(queue: Topology.deadQueue))
            #expect(String(decoding: parked.body, as: UTF8.self) == "\u{1}not json at all")
            let reason = parked.headers[Topology.deadReasonHeader]?.stringValue ?? ""
            #expect(reason.hasPrefix("parked by worker w0-") && reason.contains("not a job message"))
            try await parked.ack()
            await connection.close()

            let second = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))
            #expect(try await fleet.waitForJob(second).state == .succeeded)
        }
    }
}

extension CorePathTests {
    @Test("a job whose message no worker can run is parked and marked dead with the reason")
    func unusableMessage() async throws {
        try await Fleet.run { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            // Queued for a group nobody serves, so that only the forged copy below is ever run.
            let id = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "nobody"))
            try await fleet.waitForJob(id) { $0.state == .queued }
            let forged = JobEnvelope(jobID: id, attempt: 1, maxAttempts: 3, bot: BotDefinition(name: "quick", argv: []),
                                     group: "g1", priority: .normal, environment: "prod", inputs: [:], account: nil,
                                     timeoutSeconds: 30, submittedAt: Date())
            try await publish(forged, to: fleet.url)
            let job = try await fleet.waitForJob(id, timeout: .seconds(10))
            #expect(job.state == .dead)
            #expect(job.reason?.hasSuffix("bot quick cannot run: argv must name a program") == true)
        }
    }
}

extension CorePathTests {
    @Test("a second copy of a running job's message starts a second bot: its worker is told to stop that run, and the job's own run goes on")
    func secondCopyStopped() async throws {
        try await Fleet.run { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("stamp", seconds: 5))
            let id = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1"))
            try await fleet.waitForJob(id) { $0.state == .running }
            // What the outbox would publish twice if the dispatcher died between publishing and recording it.
            let definition = try #require(try await fleet.store.bot(named: "stamp"))
            let copy = JobEnvelope(jobID: id, attempt: 1, maxAttempts: 3, bot: definition,
                                   group: "g1", priority: .normal, environment: "prod", inputs: [:], account: nil,
                                   timeoutSeconds: 120, submittedAt: Date())
            try await publish(copy, to: fleet.url)

            let job = try await fleet.waitForJob(id, timeout: .seconds(30))
            #expect(job.state == .succeeded && job.attempts == 1)
            #expect(job.history?.contains { $0.reason.hasPrefix("a second copy of attempt 1's message started on w0-") } == true)
            // The copy's bot was stopped at once, or never started when the stop came first.
            let runs = bot.runs()
            #expect(runs.first?.end != nil, "the job's own run did not finish: \(runs)")
            #expect(runs.count <= 2)
            for copy in runs.dropFirst() {
                #expect(copy.end == nil && !isRunning(copy.pid), "the copy's bot was not stopped: \(copy)")
            }
        }
    }
}

/// Publishes a job message of the test's making to `botyard.jobs`, confirmed, on a connection of its own.
func publish(_ envelope: JobEnvelope, to url: AMQPURL) async throws {
    let connection = try await AMQPConnection.connect(to: url, name: "test publisher", logger: Fleet.logger)
    let channel = try await connection.openChannel()
    try await channel.enableConfirms()
    try await channel.publish(AMQPMessage(exchange: Topology.jobsExchange, routingKey: envelope.routingKey,
                                          body: try JSONCodec.encode(envelope), messageID: envelope.messageID))
    await connection.close()
}

/// A job parked in `botyard.dead`, with the reason the dispatcher gave.
struct ParkedJob {
    var envelope: JobEnvelope
    var reason: String?
}

func deadMessage(for jobID: Int64, url: AMQPURL) async throws -> ParkedJob {
    let connection = try await AMQPConnection.connect(to: url, name: "inspector", logger: Fleet.logger)
    defer { Task { await connection.close() } }
    let channel = try await connection.openChannel()
    try await waitUntil(timeout: .seconds(10)) { try await channel.inspectQueue(Topology.deadQueue).messageCount > 0 }
    let delivery = try #require(try await channel.get(queue: Topology.deadQueue))
    try await delivery.reject(requeue: true)
    let envelope = try JSONCodec.decode(JobEnvelope.self, from: delivery.body)
    #expect(envelope.jobID == jobID)
    return ParkedJob(envelope: envelope, reason: delivery.headers[Topology.deadReasonHeader]?.stringValue)
}

/// Messages waiting in `queues`, all together.
func messagesWaiting(in queues: [String], url: AMQPURL) async throws -> Int {
    let connection = try await AMQPConnection.connect(to: url, name: "inspector", logger: Fleet.logger)
    let channel = try await connection.openChannel()
    var total = 0
    for queue in queues { total += try await channel.inspectQueue(queue).messageCount }
    await connection.close()
    return total
}

/// Polls `condition` until it holds; fails the test after `timeout`.
func waitUntil(timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition still false after \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}
