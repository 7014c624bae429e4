import Foundation
import GRDB
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

    /// A store with the UI bot, where a worker of g1 on h1 serving robot1 sent its first heartbeat at `start`.
    func withServedAccount(_ body: (BotyardStore, Date) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let start = Date()
            try await store.saveBot(Self.bot)
            _ = try await store.apply([], heartbeats: [Self.heartbeat()], random: { 0 }, at: start)
            try await body(store, start)
        }
    }

    static func storeCredential(in store: BotyardStore, account: String, at time: Date = Date()) async throws {
        let credential = AccountCredential(username: "u", password: "p")
        try await store.saveCredential(credential, host: "h1", account: account, at: time)
    }

    static func launch(wait: Int = 10, maxAttempts: Int = 3) -> SubmitJobRequest {
        SubmitJobRequest(bot: "ui-bot", group: "g1", account: "robot1", host: "h1",
                         robotQueue: RobotQueuePolicy(waitSeconds: wait, maxAttempts: maxAttempts))
    }

    @Test("a batch of reports says whether it gave the relay messages and the robot queue due launches")
    func appliedBatchNamesItsWork() async throws {
        try await withServedAccount { store, start in
            func due() async throws -> [Bool] {
                try await store.database.read { db in try Bool.fetchAll(db, sql: "SELECT due FROM robot_queue") }
            }
            let waiting = try await store.submit(Self.launch(), bot: Self.bot, at: start)
            #expect(waiting.state == .pending)
            #expect(try await due() == [false])
            let retried = BotDefinition(name: "flaky", argv: ["/bin/false"], timeoutSeconds: 30,
                                        retry: .fixed(maxAttempts: 2, waitMilliseconds: 0))
            try await store.saveBot(retried)
            let job = try await store.submit(SubmitJobRequest(bot: "flaky", group: "g1"), bot: retried, at: start)
            func report(_ kind: JobEvent.Kind, account: String?, _ outcome: JobOutcome? = nil) -> JobEvent {
                JobEvent(kind: kind, jobID: job.id, attempt: 1, runID: "run-1", workerID: "w-h1", host: "h1",
                         account: account, outcome: outcome)
            }

            let started = try await store.apply([report(.started, account: nil)], heartbeats: [], commit: .atOnce).value
            #expect(!started.addedMessages && !started.madeLaunchesDue)
            // It ran as robot1: its end frees the account the waiting launch asks for, and it is retried.
            let failed = JobOutcome(result: .failed, exitCode: 1, reason: "exit code 1")
            let finished = try await store.apply([report(.finished, account: "robot1", failed)], heartbeats: [],
                                                 commit: .atOnce).value
            #expect(finished.results == [.applied(.retrying, publishes: true)])
            #expect(finished.addedMessages && finished.madeLaunchesDue)
            #expect(try await due() == [true])
        }
    }

    @Test("a launch that cannot start waits with its reason; it is tried again only after an event and its wait")
    func waitsForEventAndWait() async throws {
        try await withServedAccount { store, start in
            let job = try await store.submit(Self.launch(), bot: Self.bot, at: start)
            #expect(job.state == .pending && job.reason == "robot queue: missing credentials for account robot1 on h1")
            let entry = try #require(try await store.robotQueue().first)
            #expect(entry.attempts == 1 && entry.reason == "missing credentials for account robot1 on h1")
            #expect(try await store.outboxCount() == 0)

            // No event: nothing is tried, however long it waits.
            #expect(try await store.retryRobotQueue(at: start.addingTimeInterval(60)) == RobotQueuePass())
            #expect(try await store.robotQueue().first?.attempts == 1)
            // An event before the wait is over: tried once the wait is over, not sooner.
            try await Self.storeCredential(in: store, account: "robot1", at: start.addingTimeInterval(1))
            let early = try #require(try await store.retryRobotQueue(at: start.addingTimeInterval(5)).nextTry)
            #expect(abs(early.timeIntervalSince(start) - 10) < 0.001)  // stored to the millisecond
            #expect(try await store.robotQueue().first?.attempts == 1)
            let pass = try await store.retryRobotQueue(at: start.addingTimeInterval(10))
            #expect(pass.dispatchedJobs.count == 1)
            #expect(try await store.robotQueue().isEmpty)
            let dispatched = try #require(try await store.job(id: job.id))
            #expect(dispatched.history?.last?.reason == "dispatched to account robot1 on h1 after 2 tries in the robot queue")
            #expect(try await store.outboxCount() == 1)
        }
    }

    @Test("after its max attempts a launch leaves the robot queue as dead, with the last reason")
    func givesUp() async throws {
        try await withTemporaryStore { store, _ in
            let start = Date()
            try await store.saveBot(Self.bot)
            let job = try await store.submit(Self.launch(wait: 0, maxAttempts: 2), bot: Self.bot, at: start)
            #expect(job.reason == "robot queue: host h1 is not active")
            // A host coming up is an event only for the launches of its group that ask for it (or
            // for any host) and for an account it serves: others keep their tries.
            _ = try await store.apply([], heartbeats: [Self.heartbeat(host: "h2")], random: { 0 }, at: start)
            var otherAccount = Self.heartbeat(host: "h1")
            otherAccount.workerID = "w-other-account"
            otherAccount.accounts = [AccountStatus(name: "robot9", limit: 1)]
            var otherGroup = Self.heartbeat(host: "h1")
            otherGroup.workerID = "w-other-group"
            otherGroup.group = "g2"
            _ = try await store.apply([], heartbeats: [otherAccount, otherGroup], random: { 0 }, at: start)
            #expect(try await store.retryRobotQueue(at: start) == RobotQueuePass())
            #expect(try await store.robotQueue().first?.attempts == 1)
            _ = try await store.apply([], heartbeats: [Self.heartbeat(host: "h1")], random: { 0 }, at: start)
            #expect(try await store.retryRobotQueue(at: start).deadJobs.count == 1)
            let dead = try #require(try await store.job(id: job.id))
            #expect(dead.state == .dead)
            #expect(dead.reason == "robot queue: gave up after 2 tries; last: missing credentials for account robot1 on h1")
            #expect(try await store.robotQueue().isEmpty)
        }
    }

    @Test("a sync launch that cannot start is rejected, never entered in the robot queue; a cancelled one leaves it")
    func syncAndCancel() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            var sync = Self.launch()
            sync.admission = .sync
            let rejected = try await store.submit(sync, bot: Self.bot)
            #expect(rejected.state == .rejected && rejected.reason == "No slots available: host h1 is not active")
            #expect(try await store.robotQueue().isEmpty)

            let waiting = try await store.submit(Self.launch(), bot: Self.bot)
            #expect(try await store.robotQueue().count == 1)
            _ = try await store.cancel(jobID: waiting.id, reason: "not needed")
            #expect(try await store.robotQueue().isEmpty)
        }
    }

    @Test("a targeted run whose runtime fails to start goes back to the robot queue, uses no attempt, and dies after the robot queue's max tries")
    func runtimeFailedToStart() async throws {
        try await withTemporaryStore { store, _ in
            let bot = BotDefinition(name: "quick", argv: ["/nonexistent"], timeoutSeconds: 30)  // 3 attempts by default
            try await store.saveBot(bot)
            _ = try await store.apply([], heartbeats: [Self.heartbeat()], random: { 0 })
            var launch = Self.launch(wait: 0, maxAttempts: 4)
            launch.bot = "quick"
            let job = try await store.submit(launch, bot: bot)
            for attempt in 1...4 {
                let envelope = try await JSONCodec.decode(JobEnvelope.self, from: try #require(try store.outbox(limit: 10).last).body)
                #expect(envelope.attempt == attempt && envelope.host == "h1")
                try await store.markPublished(try store.outbox(limit: 10))
                func event(_ kind: JobEvent.Kind, outcome: JobOutcome? = nil) -> JobEvent {
                    JobEvent(kind: kind, jobID: job.id, attempt: attempt, envelopeAttempt: attempt, runID: "r\(attempt)",
                             workerID: "w-h1", host: "h1", account: "robot1", outcome: outcome)
                }
                _ = try await store.apply(event(.started), random: 0)
                let failure = JobOutcome(result: .failedToStart, reason: "cannot start /nonexistent")
                _ = try await store.apply(event(.finished, outcome: failure),
                                          random: 0)
                if attempt < 4 {
                    let entry = try #require(try await store.robotQueue().first)
                    #expect(entry.reason == "runtime failed to start on h1: cannot start /nonexistent")
                    #expect(entry.attempts == attempt)
                    #expect(try await store.job(id: job.id)?.state == .pending)
                    // The finished run was itself an event for its account: the next pass dispatches it again.
                    #expect(try await store.retryRobotQueue().dispatchedJobs.count == 1)
                }
            }
            let dead = try #require(try await store.job(id: job.id))
            #expect(dead.state == .dead && dead.attempts == 0)
            #expect(dead.reason == "robot queue: gave up after 4 tries; last: runtime failed to start on h1: cannot start /nonexistent")
            #expect(try await store.robotQueue().isEmpty)
        }
    }

    @Test("a job whose message was lost with its deleted queue is sent again: a launch on its last try goes back to the robot queue due at once, its try given back, and any other job is published anew")
    func lostMessagesSentAgain() async throws {
        try await withTemporaryStore { store, _ in
            // One moment for every step: on a busy machine the worker would otherwise look lost.
            let now = Date()
            let bot = BotDefinition(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30)
            try await store.saveBot(bot)
            _ = try await store.apply([], heartbeats: [Self.heartbeat()], random: { 0 }, at: now)
            var launch = Self.launch(wait: 600, maxAttempts: 1)
            launch.bot = "quick"
            let targeted = try await store.submit(launch, bot: bot, at: now)
            let untargeted = try await store.submit(SubmitJobRequest(bot: "quick", group: "g1"), bot: bot, at: now)
            try await store.markPublished(try store.outbox(limit: 10))
            for job in [targeted, untargeted] {
                for kind in [JobEvent.Kind.started, .messageLost] {
                    _ = try await store.apply(JobEvent(kind: kind, jobID: job.id, attempt: 1,
                                                       runID: "r1", workerID: "w-h1",
                                                       host: "h1", account: "robot1", at: now), random: 0, at: now)
                }
            }

            let entry = try #require(try await store.robotQueue().first)
            #expect(entry.jobID == targeted.id && entry.attempts == 0)
            #expect(entry.reason == "its message went with the queue deleted while w-h1 held it")
            #expect(try await store.job(id: targeted.id)?.state == .pending)
            let sentAgain = try #require(try await store.job(id: untargeted.id))
            #expect(sentAgain.state == .queued && sentAgain.attempts == 0)
            // The untargeted job's new message is waiting for the relay already; the launch's after the next pass.
            #expect(try await store.retryRobotQueue(at: now).dispatchedJobs == [targeted.id])
            let messages = try await store.outbox(limit: 10)
                .map { try JSONCodec.decode(JobEnvelope.self, from: $0.body) }
            #expect(Set(messages.map(\.jobID)) == [targeted.id, untargeted.id])
            #expect(messages.allSatisfy { $0.attempt == 2 })
        }
    }

    @Test("an event for another account leaves an entry's tries alone")
    func eventsAreScoped() async throws {
        try await withServedAccount { store, start in
            let job = try await store.submit(Self.launch(wait: 0), bot: Self.bot, at: start)
            try await Self.storeCredential(in: store, account: "robot2", at: start)
            #expect(try await store.retryRobotQueue(at: start.addingTimeInterval(1)) == RobotQueuePass())
            #expect(try await store.robotQueue().first?.attempts == 1)
            try await Self.storeCredential(in: store, account: "robot1", at: start)
            #expect(try await store.retryRobotQueue(at: start.addingTimeInterval(1)).dispatchedJobs.count == 1)
            #expect(try await store.job(id: job.id)?.state == .pending)
        }
    }

    @Test("a requeued dead targeted launch starts over in the robot queue")
    func requeueTargeted() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let job = try await store.submit(Self.launch(maxAttempts: 1), bot: Self.bot)
            #expect(try await store.job(id: job.id)?.state == .dead)
            guard case .requeued(let again) = try await store.requeueDead(jobID: job.id, initiator: "ops") else {
                Issue.record("not requeued")
                return
            }
            #expect(again.state == .dead && again.reason == "robot queue: gave up after 1 try; last: host h1 is not active")
            _ = try await store.apply([], heartbeats: [Self.heartbeat()], random: { 0 })
            try await Self.storeCredential(in: store, account: "robot1")
            guard case .requeued(let third) = try await store.requeueDead(jobID: again.id, initiator: "ops") else {
                Issue.record("not requeued")
                return
            }
            #expect(third.state == .pending && third.reason == nil)
            #expect(try await store.robotQueue().isEmpty)
        }
    }

    @Test("a new launch does not overtake an earlier one that an event made due: it waits behind it, using no try")
    func keepsOrder() async throws {
        try await withServedAccount { store, start in
            let first = try await store.submit(Self.launch(wait: 10), bot: Self.bot, at: start)
            // The credentials arrive: the first launch is due, but its wait is not over yet.
            try await Self.storeCredential(in: store, account: "robot1", at: start.addingTimeInterval(1))
            let second = try await store.submit(Self.launch(wait: 10), bot: Self.bot, at: start.addingTimeInterval(2))
            #expect(second.state == .pending)
            #expect(second.reason == "robot queue: behind job \(first.id), an earlier launch for account robot1 that is tried first")
            #expect(try await store.robotQueue().map(\.attempts) == [1, 0])
            var sync = Self.launch()
            sync.admission = .sync
            let rejected = try await store.submit(sync, bot: Self.bot, at: start.addingTimeInterval(3))
            #expect(rejected.state == .rejected && rejected.reason?.hasPrefix("No slots available: behind job \(first.id)") == true)

            // When the first one's wait is over it goes first; the second finds the account's UI taken.
            let pass = try await store.retryRobotQueue(at: start.addingTimeInterval(10))
            #expect(pass.dispatchedJobs.count == 1)
            #expect(try await store.job(id: first.id)?.reason == nil)
            let waiting = try #require(try await store.robotQueue().first)
            #expect(waiting.jobID == second.id && waiting.attempts == 1)
            #expect(waiting.reason == "a UI bot is already running on account robot1 on h1")
        }
    }

    @Test("a launch dispatched to a host that is lost before it starts goes back to the robot queue, its message superseded")
    func lostHostReturnsLaunch() async throws {
        try await withServedAccount { store, start in
            try await Self.storeCredential(in: store, account: "robot1", at: start)
            let job = try await store.submit(Self.launch(wait: 5), bot: Self.bot, at: start)
            try await store.markPublished(try store.outbox(limit: 10), at: start)
            #expect(try await store.job(id: job.id)?.state == .queued)
            // Heartbeats every 5 s: still active after 15 s, lost after that — judged only while
            // heartbeats come in, unlike after a dispatcher restart, when every worker looks silent.
            #expect(try await store.returnLaunchesOfLostHosts(at: start.addingTimeInterval(14.9)) == 0)
            #expect(try await store.returnLaunchesOfLostHosts(at: start.addingTimeInterval(16)) == 0)
            _ = try await store.apply([], heartbeats: [Self.heartbeat(host: "h2")], random: { 0 },
                                      at: start.addingTimeInterval(16))
            #expect(try await store.returnLaunchesOfLostHosts(at: start.addingTimeInterval(16)) == 1)
            let back = try #require(try await store.job(id: job.id))
            #expect(back.state == .pending && back.reason == "robot queue: host h1 was lost before the launch started")
            let entry = try #require(try await store.robotQueue().first)
            #expect(entry.attempts == 1 && abs(entry.addedAt.timeIntervalSince(job.submittedAt)) < 0.001)
            #expect(try await store.returnLaunchesOfLostHosts(at: start.addingTimeInterval(17)) == 0)

            // Its wait over, it is tried without another event, and waits for the host.
            #expect(try await store.retryRobotQueue(at: start.addingTimeInterval(21)) == RobotQueuePass())
            #expect(try await store.robotQueue().first?.reason == "host h1 is not active")
            // The host comes back: dispatched again, as a new message; the old copy does not count.
            _ = try await store.apply([], heartbeats: [Self.heartbeat()], random: { 0 },
                                      at: start.addingTimeInterval(30))
            #expect(try await store.retryRobotQueue(at: start.addingTimeInterval(30)).dispatchedJobs.count == 1)
            let envelope = try await JSONCodec.decode(JobEnvelope.self, from: try #require(try store.outbox(limit: 10).last).body)
            #expect(envelope.attempt == 2)
            let stale = JobEvent(kind: .started, jobID: job.id, attempt: 1, envelopeAttempt: 1, runID: "old",
                                 workerID: "w-h1", host: "h1", account: "robot1")
            #expect(try await store.apply(stale, random: 0)
                == .ignored("superseded message of attempt 1; attempt 2 is under way"))
            let stop = try #require(try await store.outbox(limit: 10).last)
            #expect(try JSONCodec.decode(ControlMessage.self, from: stop.body)
                == ControlMessage(command: .stopRun, jobID: job.id, runID: "old"))
            // Even once the job has ended, a copy that starts is stopped.
            _ = try await store.cancel(jobID: job.id, reason: "done with it")
            let late = JobEvent(kind: .started, jobID: job.id, attempt: 1, envelopeAttempt: 1, runID: "late",
                                workerID: "w-h1", host: "h1", account: "robot1")
            #expect(try await store.apply(late, random: 0)
                == .ignored("job was cancelled; told worker w-h1 to stop it"))
            let cancelled = try #require(try await store.outbox(limit: 10).last)
            #expect(cancelled.routingKey == Topology.controlRoutingKey(workerID: "w-h1"))
        }
    }

    @Test("a launch dispatched to an account its host no longer serves goes back to the robot queue")
    func accountNoLongerServed() async throws {
        try await withServedAccount { store, start in
            try await Self.storeCredential(in: store, account: "robot1", at: start)
            let job = try await store.submit(Self.launch(wait: 5), bot: Self.bot, at: start)
            // The worker restarts without the account.
            var without = Self.heartbeat()
            without.accounts = [AccountStatus(name: "robot9", limit: 1)]
            _ = try await store.apply([], heartbeats: [without], random: { 0 }, at: start.addingTimeInterval(1))
            #expect(try await store.returnLaunchesOfLostHosts(at: start.addingTimeInterval(1)) == 1)
            #expect(try await store.job(id: job.id)?.reason
                == "robot queue: account robot1 is no longer served on host h1")
        }
    }

    @Test("marking an account's launches due, on every finished report, looks jobs up by key, never lists a group's jobs")
    func markingDueSearchesJobsByKey() async throws {
        try await withTemporaryStore { store, _ in
            let plan = try await store.database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + BotyardStore.markDueSQL(accounts: 2, byGroup: true),
                                 arguments: ["robot1", "robot2", "h1", "g1"])
                    .map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.hasPrefix("SEARCH jobs USING INTEGER PRIMARY KEY") }, "\(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN jobs") || $0.contains("jobs USING INDEX") }, "\(plan)")
        }
    }

    @Test("the lost-host sweep, run on every worker report, searches the dispatched-launch index, not every waiting job")
    func sweepSearchesItsIndex() async throws {
        try await withTemporaryStore { store, _ in
            let plan = try await store.database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + BotyardStore.dispatchedLaunchesSQL)
                    .map { $0["detail"] as String }
            }
            #expect(plan.first == "SEARCH jobs USING INDEX jobs_dispatched_to (dispatchHost>?)", "\(plan)")
        }
    }
}
