import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

@Suite("Retention")
struct RetentionTests {
    static let now = Date()
    static func daysAgo(_ days: Double) -> Date { now - days * RetentionPolicy.day }

    static let bot = BotDefinition(name: "once", argv: ["/bin/true"], timeoutSeconds: 30,
                                   retry: .fixed(maxAttempts: 1, waitMilliseconds: 0))

    /// A job of `bot` (a child of `parent` if given) submitted and started at `time`; returns its id.
    static func startedJob(in store: BotyardStore, at time: Date, parent: Int64? = nil) async throws -> Int64 {
        let request = SubmitJobRequest(bot: bot.name, group: "g1")
        let id: Int64
        if let parent {
            guard case .submitted(let child) = try await store.submit(request, bot: bot, startedBy: parent, at: time)
            else { throw CancellationError() }
            id = child.id
        } else {
            id = try await store.submit(request, bot: bot, at: time).id
        }
        _ = try await store.apply([report(.started, jobID: id, at: time)], heartbeats: [], random: { 0 }, at: time)
        return id
    }

    static func report(_ kind: JobEvent.Kind, jobID: Int64, _ outcome: JobOutcome? = nil, at time: Date) -> JobEvent {
        JobEvent(kind: kind, jobID: jobID, attempt: 1, runID: "run-\(jobID)", workerID: "w1", host: "h1",
                 account: "robot1", at: time, outcome: outcome)
    }

    /// Ends the started job `id` at `time` with `result`, its log stored.
    static func end(_ id: Int64, in store: BotyardStore, at time: Date, _ result: JobOutcome.Result = .succeeded)
        async throws
    {
        let outcome = JobOutcome(result: result, exitCode: result == .succeeded ? 0 : 1, reason: "ended",
                                 log: "the bot's log of job \(id)")
        _ = try await store.apply([report(.finished, jobID: id, outcome, at: time)], heartbeats: [],
                                  random: { 0 }, at: time)
    }

    /// A job submitted, started and ended at `time`.
    static func job(in store: BotyardStore, at time: Date, ending result: JobOutcome.Result = .succeeded)
        async throws -> Int64
    {
        let id = try await startedJob(in: store, at: time)
        try await end(id, in: store, at: time, result)
        return id
    }

    static func count(_ table: String, jobID: Int64, in store: BotyardStore) async throws -> Int {
        try await store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE jobID = ?", arguments: [jobID]) ?? 0
        }
    }

    @Test("a pass deletes old finished jobs with their history, logs and report ids, and keeps what is still needed")
    func keepsWhatIsNeeded() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let old = try await Self.job(in: store, at: Self.daysAgo(100))
            let oldFailed = try await Self.job(in: store, at: Self.daysAgo(100), ending: .failed)
            let recent = try await Self.job(in: store, at: Self.daysAgo(1))
            let logAged = try await Self.job(in: store, at: Self.daysAgo(40))
            let running = try await Self.startedJob(in: store, at: Self.daysAgo(100))
            let parent = try await Self.startedJob(in: store, at: Self.daysAgo(100))
            let child = try await Self.startedJob(in: store, at: Self.daysAgo(2), parent: parent)
            try await Self.end(child, in: store, at: Self.daysAgo(2))
            try await Self.end(parent, in: store, at: Self.daysAgo(100))
            #expect(try await store.job(id: oldFailed)?.state == .dead, "one attempt, failed: parked")
            _ = try await store.apply([], heartbeats: [
                WorkerHeartbeat(workerID: "gone", group: "g1", host: "h9", accounts: [], slots: 1, running: 0,
                                intervalSeconds: 5),
            ], random: { 0 }, at: Self.daysAgo(10))
            _ = try await store.apply([], heartbeats: [
                WorkerHeartbeat(workerID: "alive", group: "g1", host: "h1", accounts: [], slots: 1, running: 0,
                                intervalSeconds: 5),
            ], random: { 0 }, at: Self.daysAgo(0.1))

            // The relay published every job's message (none runs here).
            try await store.database.write { db in try db.execute(sql: "DELETE FROM outbox") }
            store.recordAudit(caller: "token ci", role: .operator, method: "POST", path: "/v1/jobs",
                              status: 201, at: Self.daysAgo(400))
            store.recordAudit(caller: "token ci", role: .operator, method: "POST", path: "/v1/jobs",
                              status: 201, at: Self.daysAgo(300))
            await store.commitDeferredWrites()
            let pass = try await store.applyRetention(RetentionPolicy(), at: Self.now, batchSize: 2)
            // Logs: the old job's, the 40-day-old one's and the parent's; report ids: two of each ended job older
            // than 14 days (old, dead, 40-day-old, parent).
            #expect(pass == RetentionPass(jobs: 1, jobLogs: 3, appliedEvents: 8, workers: 1, auditEntries: 1))
            let kept = try await store.auditEntries(limit: 10).map(\.at)
            #expect(kept.count == 1 && abs(kept[0].timeIntervalSince(Self.daysAgo(300))) < 0.01, "\(kept)")

            #expect(try await store.job(id: old) == nil)
            for table in ["job_history", "job_logs", "applied_events"] {
                #expect(try await Self.count(table, jobID: old, in: store) == 0, "\(table) of the deleted job")
            }
            // Dead jobs stay until requeued or purged; running jobs keep the ids of their reports.
            #expect(try await store.job(id: oldFailed)?.state == .dead)
            #expect(try await store.log(jobID: oldFailed, attempt: nil) != nil)
            #expect(try await store.job(id: running)?.state == .running)
            #expect(try await Self.count("applied_events", jobID: running, in: store) == 1)
            // A parent stays while its child is stored; recent jobs keep their logs.
            #expect(try await store.job(id: parent) != nil)
            #expect(try await store.job(id: child) != nil)
            #expect(try await store.log(jobID: recent, attempt: nil) == "the bot's log of job \(recent)")
            #expect(try await store.job(id: logAged) != nil)
            #expect(try await store.log(jobID: logAged, attempt: nil) == nil)
            #expect(try await store.workers(at: Self.now).map(\.workerID) == ["alive"])

            #expect(try await store.applyRetention(RetentionPolicy(), at: Self.now) == RetentionPass())
        }
    }

    @Test("an old finished job stays while a message of its is still in the outbox, and goes in the pass after")
    func keepsAJobWithAnUnpublishedMessage() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let heldBack = try await Self.job(in: store, at: Self.daysAgo(100))
            let published = try await Self.job(in: store, at: Self.daysAgo(100))
            // The relay published every message but `heldBack`'s (a broker outage, say).
            try await store.database.write { db in
                try db.execute(sql: "DELETE FROM outbox WHERE jobID != ?", arguments: [heldBack])
            }
            #expect(try await Self.count("outbox", jobID: heldBack, in: store) > 0)

            #expect(try await store.applyRetention(RetentionPolicy(), at: Self.now).jobs == 1)
            #expect(try await store.job(id: published) == nil)
            #expect(try await store.job(id: heldBack) != nil)

            try await store.database.write { db in try db.execute(sql: "DELETE FROM outbox") }
            #expect(try await store.applyRetention(RetentionPolicy(), at: Self.now).jobs == 1)
            #expect(try await store.job(id: heldBack) == nil)
        }
    }

    @Test("a pass reads the outbox once a search for old jobs, not once for each old job it finds")
    func readsTheOutboxOnceASearch() async throws {
        try await withTemporaryStore { store, _ in
            let plan = try await store.database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + BotyardStore.oldJobsSQL.sql, arguments: ["t", 500])
                    .map { (id: $0["id"] as Int, parent: $0["parent"] as Int, detail: $0["detail"] as String) }
            }
            let outboxReads = plan.filter { $0.detail.hasPrefix("SCAN outbox") || $0.detail.hasPrefix("SEARCH outbox") }
            #expect(outboxReads.count == 1, "\(plan)")
            for read in outboxReads {
                let subquery = plan.first { $0.id == read.parent }?.detail ?? ""
                #expect(!subquery.hasPrefix("CORRELATED"), "\(plan)")
            }
        }
    }

    @Test("ages under an hour are refused")
    func refusesShortAges() {
        #expect(RetentionPolicy(jobLogs: 60).problems == ["retention of job logs must be at least an hour"])
        #expect(RetentionPolicy().problems.isEmpty)
    }
}
