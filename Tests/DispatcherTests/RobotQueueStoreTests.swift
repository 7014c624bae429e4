import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Robot queue in the store")
struct RobotQueueStoreTests {
    static let bot = BotDefinition(name: "ui-bot", argv: ["/bin/true"], needsUI: true, timeoutSeconds: 30)

    static func heartbeat(host: String = "h1") -> WorkerHeartbeat {
        WorkerHeartbeat(workerID: "w-\(host)", group: "g1", host: host,
                        accounts: [AccountStatus(name: "robot1", limit: 1)], slots: 4, running: 0, intervalSeconds: 5)
    }

    static func launch(wait: Int = 10, maxAttempts: Int = 3) -> SubmitJobRequest {
        SubmitJobRequest(bot: "ui-bot", group: "g1", account: "robot1", host: "h1",
                         robotQueue: RobotQueuePolicy(waitSeconds: wait, maxAttempts: maxAttempts))
    }

    @Test("a launch that cannot start waits with its reason; it is tried again only after an event and its wait")
    func waitsForEventAndWait() async throws {
        try await withTemporaryStore { store, _ in
            let start = Date()
            try store.saveBot(Self.bot)
            _ = try store.apply([], heartbeats: [Self.heartbeat()], random: { 0 }, at: start)
            let job = try store.submit(Self.launch(), bot: Self.bot, at: start)
            #expect(job.state == .pending && job.reason == "robot queue: missing credentials for account robot1 on h1")
            let entry = try #require(try store.robotQueue().first)
            #expect(entry.attempts == 1 && entry.reason == "missing credentials for account robot1 on h1")
            #expect(try store.outboxCount() == 0)

            // No event: nothing is tried, however long it waits.
            #expect(try store.retryRobotQueue(at: start.addingTimeInterval(60)) == RobotQueuePass())
            #expect(try store.robotQueue().first?.attempts == 1)
            // An event before the wait is over: tried once the wait is over, not sooner.
            try store.saveCredential(AccountCredential(username: "u", password: "p"), host: "h1", account: "robot1",
                                     at: start.addingTimeInterval(1))
            let early = try #require(try store.retryRobotQueue(at: start.addingTimeInterval(5)).nextTry)
            #expect(abs(early.timeIntervalSince(start) - 10) < 0.001)  // stored to the millisecond
            #expect(try store.robotQueue().first?.attempts == 1)
            let pass = try store.retryRobotQueue(at: start.addingTimeInterval(10))
            #expect(pass.dispatched == 1)
            #expect(try store.robotQueue().isEmpty)
            let dispatched = try #require(try store.job(id: job.id))
            #expect(dispatched.history?.last?.reason == "dispatched to account robot1 on h1 after 2 tries in the robot queue")
            #expect(try store.outboxCount() == 1)
        }
    }

    @Test("after its max attempts a launch leaves the robot queue as dead, with the last reason")
    func givesUp() async throws {
        try await withTemporaryStore { store, _ in
            let start = Date()
            try store.saveBot(Self.bot)
            let job = try store.submit(Self.launch(wait: 0, maxAttempts: 2), bot: Self.bot, at: start)
            #expect(job.reason == "robot queue: host h1 is not active")
            _ = try store.apply([], heartbeats: [Self.heartbeat(host: "h2")], random: { 0 }, at: start)
            #expect(try store.retryRobotQueue(at: start).dead == 1)
            let dead = try #require(try store.job(id: job.id))
            #expect(dead.state == .dead && dead.reason == "robot queue: gave up after 2 tries; last: host h1 is not active")
            #expect(try store.robotQueue().isEmpty)
        }
    }

    @Test("a sync launch that cannot start is rejected, never entered in the robot queue; a cancelled one leaves it")
    func syncAndCancel() async throws {
        try await withTemporaryStore { store, _ in
            try store.saveBot(Self.bot)
            var sync = Self.launch()
            sync.admission = .sync
            let rejected = try store.submit(sync, bot: Self.bot)
            #expect(rejected.state == .rejected && rejected.reason == "No slots available: host h1 is not active")
            #expect(try store.robotQueue().isEmpty)

            let waiting = try store.submit(Self.launch(), bot: Self.bot)
            #expect(try store.robotQueue().count == 1)
            _ = try store.cancel(jobID: waiting.id, reason: "not needed")
            #expect(try store.robotQueue().isEmpty)
        }
    }

    @Test("a targeted run whose runtime fails to start goes back to the robot queue, and its next run is attempt 2")
    func runtimeFailedToStart() async throws {
        try await withTemporaryStore { store, _ in
            let bot = BotDefinition(name: "quick", argv: ["/nonexistent"], timeoutSeconds: 30)
            try store.saveBot(bot)
            _ = try store.apply([], heartbeats: [Self.heartbeat()], random: { 0 })
            var launch = Self.launch(wait: 0, maxAttempts: 2)
            launch.bot = "quick"
            let job = try store.submit(launch, bot: bot)
            #expect(try store.robotQueue().isEmpty)
            func event(_ kind: JobEvent.Kind, attempt: Int, run: String, outcome: JobOutcome? = nil) -> JobEvent {
                JobEvent(kind: kind, jobID: job.id, attempt: attempt, envelopeAttempt: attempt, runID: run,
                         workerID: "w-h1", host: "h1", account: "robot1", outcome: outcome)
            }
            _ = try store.apply(event(.started, attempt: 1, run: "r1"), random: 0)
            _ = try store.apply(event(.finished, attempt: 1, run: "r1",
                                      outcome: JobOutcome(result: .failedToStart, reason: "cannot start /nonexistent")),
                                random: 0)
            let entry = try #require(try store.robotQueue().first)
            #expect(entry.reason == "runtime failed to start on h1: cannot start /nonexistent" && entry.attempts == 1)
            #expect(try store.job(id: job.id)?.state == .pending)

            // The finished run was itself an event: the next pass dispatches it again, as attempt 2.
            #expect(try store.retryRobotQueue().dispatched == 1)
            let outbox = try #require(try store.outbox(limit: 10).last)
            #expect(try JSONCodec.decode(JobEnvelope.self, from: outbox.body).attempt == 2)

            // It fails to start again: that was the robot queue's second and last try.
            _ = try store.apply(event(.started, attempt: 2, run: "r2"), random: 0)
            _ = try store.apply(event(.finished, attempt: 2, run: "r2",
                                      outcome: JobOutcome(result: .failedToStart, reason: "cannot start /nonexistent")),
                                random: 0)
            let dead = try #require(try store.job(id: job.id))
            #expect(dead.state == .dead && dead.attempts == 2)
            #expect(dead.reason == "robot queue: gave up after 2 tries; last: runtime failed to start on h1: cannot start /nonexistent")
            #expect(try store.robotQueue().isEmpty)
        }
    }
}
