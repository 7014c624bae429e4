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
            // A host coming up is an event for its own launches only.
            _ = try store.apply([], heartbeats: [Self.heartbeat(host: "h2")], random: { 0 }, at: start)
            #expect(try store.retryRobotQueue(at: start) == RobotQueuePass())
            var elsewhere = Self.heartbeat(host: "h1")
            elsewhere.accounts = [AccountStatus(name: "robot9", limit: 1)]
            _ = try store.apply([], heartbeats: [elsewhere], random: { 0 }, at: start)
            #expect(try store.retryRobotQueue(at: start).dead == 1)
            let dead = try #require(try store.job(id: job.id))
            #expect(dead.state == .dead)
            #expect(dead.reason == "robot queue: gave up after 2 tries; last: account robot1 is not served on host h1")
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

    @Test("a targeted run whose runtime fails to start goes back to the robot queue, uses no attempt, and dies after the robot queue's max tries")
    func runtimeFailedToStart() async throws {
        try await withTemporaryStore { store, _ in
            let bot = BotDefinition(name: "quick", argv: ["/nonexistent"], timeoutSeconds: 30)  // 3 attempts by default
            try store.saveBot(bot)
            _ = try store.apply([], heartbeats: [Self.heartbeat()], random: { 0 })
            var launch = Self.launch(wait: 0, maxAttempts: 4)
            launch.bot = "quick"
            let job = try store.submit(launch, bot: bot)
            for attempt in 1...4 {
                let envelope = try JSONCodec.decode(JobEnvelope.self, from: try #require(try store.outbox(limit: 10).last).body)
                #expect(envelope.attempt == attempt && envelope.host == "h1")
                try store.markPublished(try store.outbox(limit: 10))
                func event(_ kind: JobEvent.Kind, outcome: JobOutcome? = nil) -> JobEvent {
                    JobEvent(kind: kind, jobID: job.id, attempt: attempt, envelopeAttempt: attempt, runID: "r\(attempt)",
                             workerID: "w-h1", host: "h1", account: "robot1", outcome: outcome)
                }
                _ = try store.apply(event(.started), random: 0)
                _ = try store.apply(event(.finished, outcome: JobOutcome(result: .failedToStart, reason: "cannot start /nonexistent")),
                                    random: 0)
                if attempt < 4 {
                    let entry = try #require(try store.robotQueue().first)
                    #expect(entry.reason == "runtime failed to start on h1: cannot start /nonexistent")
                    #expect(entry.attempts == attempt)
                    #expect(try store.job(id: job.id)?.state == .pending)
                    // The finished run was itself an event for its account: the next pass dispatches it again.
                    #expect(try store.retryRobotQueue().dispatched == 1)
                }
            }
            let dead = try #require(try store.job(id: job.id))
            #expect(dead.state == .dead && dead.attempts == 0)
            #expect(dead.reason == "robot queue: gave up after 4 tries; last: runtime failed to start on h1: cannot start /nonexistent")
            #expect(try store.robotQueue().isEmpty)
        }
    }

    @Test("an event for another account leaves an entry's tries alone")
    func eventsAreScoped() async throws {
        try await withTemporaryStore { store, _ in
            let start = Date()
            try store.saveBot(Self.bot)
            _ = try store.apply([], heartbeats: [Self.heartbeat()], random: { 0 }, at: start)
            let job = try store.submit(Self.launch(wait: 0), bot: Self.bot, at: start)
            try store.saveCredential(AccountCredential(username: "u", password: "p"), host: "h1", account: "robot2",
                                     at: start)
            #expect(try store.retryRobotQueue(at: start.addingTimeInterval(1)) == RobotQueuePass())
            #expect(try store.robotQueue().first?.attempts == 1)
            try store.saveCredential(AccountCredential(username: "u", password: "p"), host: "h1", account: "robot1",
                                     at: start)
            #expect(try store.retryRobotQueue(at: start.addingTimeInterval(1)).dispatched == 1)
            #expect(try store.job(id: job.id)?.state == .pending)
        }
    }

    @Test("a requeued dead targeted launch starts over in the robot queue")
    func requeueTargeted() async throws {
        try await withTemporaryStore { store, _ in
            try store.saveBot(Self.bot)
            let job = try store.submit(Self.launch(maxAttempts: 1), bot: Self.bot)
            #expect(try store.job(id: job.id)?.state == .dead)
            guard case .requeued(let again) = try store.requeueDead(jobID: job.id, initiator: "ops") else {
                Issue.record("not requeued")
                return
            }
            #expect(again.state == .dead && again.reason == "robot queue: gave up after 1 try; last: host h1 is not active")
            _ = try store.apply([], heartbeats: [Self.heartbeat()], random: { 0 })
            try store.saveCredential(AccountCredential(username: "u", password: "p"), host: "h1", account: "robot1")
            guard case .requeued(let third) = try store.requeueDead(jobID: again.id, initiator: "ops") else {
                Issue.record("not requeued")
                return
            }
            #expect(third.state == .pending && third.reason == nil)
            #expect(try store.robotQueue().isEmpty)
        }
    }
}
