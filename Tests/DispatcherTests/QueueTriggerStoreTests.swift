import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

/// Queue triggers driven through the store: each evaluation starts its jobs in the transaction
/// of the change that caused it, and leaves a readable report.
@Suite("Queue triggers in the store")
struct QueueTriggerStoreTests {
    static let t0 = Date(timeIntervalSince1970: 2_000_000_000)
    static let bot = BotDefinition(name: "poster", argv: ["/bin/true"], timeoutSeconds: 30,
                                   retry: .fixed(maxAttempts: 1, waitMilliseconds: 0))

    static func trigger(min: Int = 1, max: Int, per: Int = 1, pendingOnly: Bool = false, reassess: Bool = true,
                        strategy: QueueTriggerStrategy) -> QueueTriggerDefinition {
        QueueTriggerDefinition(queue: "invoices", bot: "poster", group: "g1", minItemsToTrigger: min,
                               maxConcurrentJobs: max, itemsPerJob: per, pendingJobsStrategy: pendingOnly,
                               reassessOnJobCompletion: reassess, strategy: strategy)
    }

    func withTrigger(_ trigger: QueueTriggerDefinition,
                     _ body: (BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let queue = WorkQueueDefinition(name: "invoices", maxRetries: 1, leaseSeconds: 60)
            _ = try await store.saveQueue(queue, replace: false)
            guard case .saved = try await store.saveTrigger(trigger, at: Self.t0) else {
                Issue.record("trigger not saved")
                return
            }
            try await body(store)
        }
    }

    @discardableResult
    func add(_ store: BotyardStore, _ count: Int, postponeUntil: Date? = nil,
             at now: Date = t0) async throws -> [Int64] {
        let items = (0..<count).map { _ in AddItemRequest(postponeUntil: postponeUntil) }
        guard case .added(let added) = try await store.addItems(items, to: "invoices", at: now) else {
            Issue.record("items not added")
            return []
        }
        return added.map(\.id)
    }

    func triggerJobs(_ store: BotyardStore) async throws -> [JobSnapshot] {
        try await store.jobs(JobFilter(limit: 1000))
            .filter { $0.launchMethod == .queueTrigger }
            .sorted { $0.id < $1.id }
    }

    func report(_ store: BotyardStore) async throws -> QueueTriggerReport {
        try #require(try await store.trigger(ofQueue: "invoices")?.lastEvaluation)
    }

    func event(_ kind: JobEvent.Kind, job: Int64, _ outcome: JobOutcome? = nil, at now: Date) -> JobEvent {
        JobEvent(kind: kind, jobID: job, attempt: 1, runID: "run-\(job)", workerID: "w1", host: "h1", account: "a1",
                 at: now, outcome: outcome)
    }

    func start(_ store: BotyardStore, _ job: Int64, at now: Date = t0) async throws {
        _ = try await store.apply(event(.started, job: job, at: now), random: 0, at: now)
    }

    /// One item added: the trigger's first job starts and claims it.
    func firstJobClaimsTheOneItem(_ store: BotyardStore) async throws -> JobSnapshot {
        try await add(store, 1)
        let first = try #require(try await triggerJobs(store).first)
        try await start(store, first.id)
        guard case .claimed = try await store.claimItem(from: "invoices", jobID: first.id, at: Self.t0) else {
            throw ClaimFailed()
        }
        return first
    }

    struct ClaimFailed: Error {}

    func finish(_ store: BotyardStore, _ job: Int64, at now: Date = t0) async throws {
        let outcome = JobOutcome(result: .succeeded, exitCode: 0, reason: "exit")
        _ = try await store.apply(event(.finished, job: job, outcome, at: now), random: 0, at: now)
    }

    @Test("60 items added in bulk with minimum 31, maximum 3, one job per 10 store 3 jobs with the items, in one go")
    func bulkAddStartsThreeJobs() async throws {
        try await withTrigger(Self.trigger(min: 31, max: 3, per: 10, strategy: .uipath)) { store in
            let outboxBefore = try await store.outboxCount()
            try await add(store, 60)
            let jobs = try await triggerJobs(store)
            #expect(jobs.count == 3)
            #expect(jobs.allSatisfy { $0.state == .pending && $0.initiator == "queue trigger invoices" })
            #expect(jobs.allSatisfy { $0.inputs == ["QUEUE": "invoices"] && $0.group == "g1" && $0.bot == "poster" })
            #expect(try await store.outboxCount() == outboxBefore + 3, "each job's message is stored with it")
            let report = try await report(store)
            #expect(report.cause == "60 items added")
            #expect(report.evaluation.desiredJobs == 3 && report.evaluation.jobsToStart == 3)
            #expect(report.startedJobs == jobs.map(\.id))
        }
    }

    @Test("the last evaluation says why nothing started: below the minimum, then the maximum reached")
    func reasonsWhenNothingStarts() async throws {
        try await withTrigger(Self.trigger(min: 31, max: 3, per: 10, strategy: .uipath)) { store in
            try await add(store, 30)
            #expect(try await triggerJobs(store).isEmpty)
            #expect(try await report(store).evaluation.reason == "fewer ready items than minItemsToTrigger (30 < 31)")
            try await add(store, 40)
            #expect(try await triggerJobs(store).count == 3)
            try await add(store, 1)
            #expect(try await triggerJobs(store).count == 3)
            #expect(try await report(store).evaluation.reason
                == "maximum number of jobs reached (3 pending and running of 3)")
        }
    }

    @Test("a trigger saved on a queue that has items evaluates at once")
    func savingEvaluates() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            _ = try await store.saveQueue(WorkQueueDefinition(name: "invoices"), replace: false)
            try await add(store, 5)
            guard case .saved(let saved, created: true) = try await store.saveTrigger(
                Self.trigger(max: 2, strategy: .uipath), at: Self.t0) else {
                Issue.record("trigger not created")
                return
            }
            #expect(saved.lastEvaluation?.cause == "trigger saved")
            #expect(saved.lastEvaluation?.startedJobs.count == 2)
            #expect(saved.nextRecheckAt == Self.t0.addingTimeInterval(30 * 60))
        }
    }

    @Test("a trigger needs its queue and its bot")
    func savingNeedsQueueAndBot() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            guard case .noQueue = try await store.saveTrigger(Self.trigger(max: 1, strategy: .exact)) else {
                Issue.record("a trigger without its queue was saved")
                return
            }
            _ = try await store.saveQueue(WorkQueueDefinition(name: "invoices"), replace: false)
            var trigger = Self.trigger(max: 1, strategy: .exact)
            trigger.bot = "nobody"
            guard case .unknownBot = try await store.saveTrigger(trigger) else {
                Issue.record("a trigger of an unknown bot was saved")
                return
            }
        }
    }

    @Test("reassess on: a job's end evaluates again; off: UiPath waits for the next item or the recheck",
          arguments: [true, false])
    func reassessOnJobCompletion(reassess: Bool) async throws {
        try await withTrigger(Self.trigger(max: 1, reassess: reassess, strategy: .uipath)) { store in
            try await add(store, 3)
            let first = try #require(try await triggerJobs(store).first)
            try await start(store, first.id)
            try await finish(store, first.id)
            let jobs = try await triggerJobs(store)
            #expect(jobs.count == (reassess ? 2 : 1))
            #expect(try await report(store).cause == (reassess ? "job \(first.id) ended" : "3 items added"))
        }
    }

    @Test("UiPath pending-only over-schedules on items added one by one while its jobs run unclaimed; exact does not",
          arguments: [QueueTriggerStrategy.uipath, .exact])
    func overScheduling(strategy: QueueTriggerStrategy) async throws {
        try await withTrigger(Self.trigger(max: 10, pendingOnly: true, strategy: strategy)) { store in
            for _ in 1...3 {
                try await add(store, 1)
                for job in try await triggerJobs(store) where job.state == .pending { try await start(store, job.id) }
            }
            #expect(try await triggerJobs(store).count == (strategy == .uipath ? 6 : 3))
        }
    }

    @Test("exact: a job busy with an item stands for that item; a new item gets a job of its own")
    func exactCountsItemsInTheJobsHands() async throws {
        try await withTrigger(Self.trigger(max: 5, strategy: .exact)) { store in
            try await add(store, 1)
            let first = try #require(try await triggerJobs(store).first)
            try await start(store, first.id)
            guard case .claimed = try await store.claimItem(from: "invoices", jobID: first.id, at: Self.t0) else {
                Issue.record("no item claimed")
                return
            }
            try await add(store, 1)
            #expect(try await triggerJobs(store).count == 2)
            #expect(try await report(store).evaluation.inputs.inProgressItems == 1)
            try await add(store, 1)
            #expect(try await triggerJobs(store).count == 3,
                    "the second job has not claimed yet: one more for the third item")
            #expect(try await report(store).evaluation.countedJobs == 2)
        }
    }

    @Test("exact keeps the item a new job was started for: a busy job finishing first, or another claimer, gets none")
    func exactKeepsItemsForJobsOnTheirWay() async throws {
        try await withTrigger(Self.trigger(max: 5, strategy: .exact)) { store in
            try await add(store, 1)
            let first = try #require(try await triggerJobs(store).first)
            try await start(store, first.id)
            guard case .claimed(let held) = try await store.claimItem(from: "invoices", jobID: first.id, at: Self.t0) else {
                Issue.record("the first job got no item")
                return
            }
            try await add(store, 1)
            let second = try #require(try await triggerJobs(store).last)
            #expect(second.id != first.id)
            _ = try await store.settleItem(held.item.id, token: held.leaseToken, .complete(output: nil), at: Self.t0)
            guard case .empty = try await store.claimItem(from: "invoices", jobID: first.id, at: Self.t0) else {
                Issue.record("the busy job took the item the second job was started for")
                return
            }
            guard case .empty = try await store.claimItem(from: "invoices", at: Self.t0) else {
                Issue.record("a claimer without a job took it")
                return
            }
            guard case .claimed = try await store.claimItem(from: "invoices", jobID: second.id, at: Self.t0) else {
                Issue.record("the second job found no item")
                return
            }
        }
    }

    @Test("UiPath keeps nothing: whoever claims first gets the item")
    func uipathKeepsNothing() async throws {
        try await withTrigger(Self.trigger(max: 5, strategy: .uipath)) { store in
            try await add(store, 1)
            guard case .claimed = try await store.claimItem(from: "invoices", at: Self.t0) else {
                Issue.record("the item was kept")
                return
            }
        }
    }

    @Test("postponed items: exact starts a job when one becomes ready; UiPath at its periodic recheck")
    func postponedItems() async throws {
        for strategy in QueueTriggerStrategy.allCases {
            try await withTrigger(Self.trigger(max: 2, strategy: strategy)) { store in
                try await add(store, 1, postponeUntil: Self.t0.addingTimeInterval(60))
                #expect(try await triggerJobs(store).isEmpty)
                #expect(try await report(store).evaluation.inputs.deferredItems == 1)
                let ready = try await store.evaluateDueTriggers(at: Self.t0.addingTimeInterval(61))
                #expect(ready.jobsStarted == (strategy == .exact ? 1 : 0))
                let recheck = try await store.evaluateDueTriggers(at: Self.t0.addingTimeInterval(30 * 60 + 1))
                #expect(recheck.evaluated == 1)
                #expect(try await triggerJobs(store).count == 1, "\(strategy)")
                #expect(try await report(store).cause == "periodic recheck")
                #expect(recheck.next == Self.t0.addingTimeInterval(60 * 60 + 1), "the next recheck is 30 minutes on")
            }
        }
    }

    @Test("exact: an item whose lease expired brings a job at once, without waiting for the recheck")
    func exactOnLeaseExpiry() async throws {
        try await withTrigger(Self.trigger(max: 3, strategy: .exact)) { store in
            let first = try await firstJobClaimsTheOneItem(store)
            // The bot died holding the item; its job ended, so nothing will take the item back but a new job.
            try await finish(store, first.id)
            #expect(try await triggerJobs(store).count == 1)
            #expect(try await store.expireLeases(at: Self.t0.addingTimeInterval(61)).expired == 1)
            #expect(try await triggerJobs(store).count == 2)
            #expect(try await report(store).cause == "an item came back")
        }
    }

    @Test("a disabled trigger starts nothing; a trigger whose bot is gone says so")
    func disabledAndBotGone() async throws {
        var disabled = Self.trigger(max: 3, strategy: .exact)
        disabled.enabled = false
        try await withTrigger(disabled) { store in
            try await add(store, 5)
            #expect(try await triggerJobs(store).isEmpty)
            #expect(try await store.trigger(ofQueue: "invoices")?.lastEvaluation == nil)
        }
        try await withTrigger(Self.trigger(max: 3, strategy: .exact)) { store in
            try await store.database.write { try $0.execute(sql: "DELETE FROM bots") }
            try await add(store, 5)
            #expect(try await triggerJobs(store).isEmpty)
            #expect(try await report(store).problem == "no bot named 'poster' any more")
        }
    }

    @Test("a trigger whose stored settings cannot be read never holds up its jobs' reports")
    func unreadableTriggerDoesNotBlockReports() async throws {
        try await withTrigger(Self.trigger(max: 1, strategy: .exact)) { store in
            try await add(store, 1)
            let job = try #require(try await triggerJobs(store).first)
            try await store.database.write { try $0.execute(sql: "UPDATE queue_triggers SET definition = '{'") }
            try await start(store, job.id)
            try await finish(store, job.id)
            #expect(try await store.job(id: job.id)?.state == .succeeded)
            // Nor adds, claims, or the keepers' passes.
            try await add(store, 1)
            guard case .claimed = try await store.claimItem(from: "invoices", at: Self.t0) else {
                Issue.record("no claim under an unreadable trigger")
                return
            }
            #expect(try await store.expireLeases(at: Self.t0.addingTimeInterval(3600)).expired == 1)
            #expect(try await store.evaluateDueTriggers(at: Self.t0.addingTimeInterval(3600)).evaluated == 1)
            #expect(try await store.evaluateDueTriggers(at: Self.t0.addingTimeInterval(3601)).evaluated == 0,
                    "not due again at once")
        }
    }

    @Test("exact: an item back from a lease that ran out during a claim brings a job, which the item is kept for")
    func exactOnExpiryDuringAClaim() async throws {
        try await withTrigger(Self.trigger(max: 3, strategy: .exact)) { store in
            let first = try await firstJobClaimsTheOneItem(store)
            try await finish(store, first.id)
            // An outside claimer comes after the lease ran out: the item is back, and a new job is on its way to it.
            guard case .empty = try await store.claimItem(from: "invoices", at: Self.t0.addingTimeInterval(61)) else {
                Issue.record("the outside claimer took the item the new job was started for")
                return
            }
            let jobs = try await triggerJobs(store)
            #expect(jobs.count == 2)
            #expect(try await report(store).cause == "an item came back")
            guard case .claimed = try await store.claimItem(from: "invoices", jobID: jobs[1].id,
                                                            at: Self.t0.addingTimeInterval(62)) else {
                Issue.record("the new job found no item")
                return
            }
        }
    }

    @Test("deleting the queue deletes its trigger")
    func deletedWithQueue() async throws {
        try await withTrigger(Self.trigger(max: 3, strategy: .exact)) { store throws in
            #expect(try await store.deleteQueue(named: "invoices"))
            #expect(try await store.trigger(ofQueue: "invoices") == nil)
            #expect(try await store.triggers().isEmpty)
        }
    }
}
