import Foundation
import GRDB
import GRDBSQLite
import Shared
import Testing

@testable import Dispatcher

/// The store's hot paths cost the same with a million finished jobs as with none: each query
/// that runs per submission, per report or per poll searches an index, and so does each that
/// runs in a write that submissions wait behind (a retention pass).
@Suite("Store growth")
struct StoreGrowthTests {
    /// Tables that grow with every job; a hot query may search them, never scan them.
    static let growing = ["jobs", "job_history", "job_logs", "cleanup_logs", "applied_events", "work_items",
                          "work_item_history", "flow_runs", "schedule_firings"]

    struct HotQuery: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        var arguments: StatementArguments = []
        /// Indexes the plan must name: a query can search another one and still read every row it
        /// covers — when its condition does not match a partial index's WHERE word for word, or
        /// when SQLite prefers an index on a column that few values share (`state`).
        var searches: [String] = []
        var testDescription: String { name }
    }

    static let hotQueries: [HotQuery] = [
        HotQuery(name: "a job by id (every report)", sql: JobRecord.fetchByIDSQL, arguments: [1]),
        HotQuery(name: "once-only mark of a report",
                 sql: "INSERT OR IGNORE INTO applied_events (eventID, appliedAt) VALUES (?, ?)", arguments: ["e", "t"]),
        HotQuery(name: "a group's load (a refusable launch)", sql: BotyardStore.groupLoadSQL, arguments: ["g1"]),
        HotQuery(name: "an account's load on a host (a robot-queue try)", sql: BotyardStore.accountLoadSQL,
                 arguments: [1, "h1", "robot1", "h1", "robot1"], searches: ["jobs_running_on", "jobs_dispatched_to"]),
        HotQuery(name: "launches made due by a finished run", sql: BotyardStore.markDueSQL(accounts: 1, byGroup: true),
                 arguments: ["robot1", "h1", "g1"]),
        HotQuery(name: "dispatched launches (the lost-host sweep)", sql: BotyardStore.dispatchedLaunchesSQL,
                 searches: ["jobs_dispatched_to"]),
        HotQuery(name: "a trigger's jobs on their way to an item (a claim)", sql: BotyardStore.triggerJobsOnTheirWaySQL,
                 arguments: ["q1"], searches: ["jobs_trigger_live"]),
        HotQuery(name: "a trigger's live jobs (its evaluation)",
                 sql: QueueTriggerCounts.liveJobsSQL("AND triggerQueue IN (?)"), arguments: ["q1"],
                 searches: ["jobs_trigger_live"]),
        HotQuery(name: "job counts (GET /v1/stats)", sql: BotyardStore.jobCountsSQL),
        HotQuery(name: "a job's children", sql: BotyardStore.childrenSQL, arguments: [1]),
        HotQuery(name: "a job by its bot's token (every call of a bot)", sql: BotyardStore.jobByTokenSQL,
                 arguments: ["token"]),
        HotQuery(name: "a bot's recent run times (a schedule's firing)", sql: BotyardStore.recentRunTimesSQL,
                 arguments: ["bot", 10]),
        HotQuery(name: "the outbox's next rows with their jobs (the relay)", sql: BotyardStore.outboxSQL,
                 arguments: [0, 100]),
        HotQuery(name: "a group's settings (a refusable launch)", sql: GroupRecord.byNameSQL, arguments: ["g1"]),
        HotQuery(name: "the outbox's newest row and the launches due (every batch of reports)",
                 sql: BotyardStore.serviceWorkSQL, searches: ["robot_queue_due"]),
        HotQuery(name: "published first dispatches made queued (the relay)",
                 sql: BotyardStore.markQueuedSQL, arguments: ["t", 1]),
        HotQuery(name: "finished jobs past their retention (a pass, in the writer's transaction)",
                 sql: BotyardStore.oldJobsSQL.sql, arguments: ["t", 500], searches: ["jobs_finished"]),
        HotQuery(name: "logs of jobs past their logs' retention (a pass, in the writer's transaction)",
                 sql: BotyardStore.oldJobLogsSQL.sql, arguments: ["t", 500], searches: ["jobs_finished"]),
    ]

    @Test("a hot query searches an index, never scans a table that grows with every job", arguments: hotQueries)
    func hotQuerySearches(_ query: HotQuery) async throws {
        try await withTemporaryStore { store, _ in
            let plan = try await store.database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + query.sql, arguments: query.arguments)
                    .map { $0["detail"] as String }
            }
            let scans = plan.filter { detail in Self.growing.contains { detail.hasPrefix("SCAN \($0)") } }
            #expect(scans.isEmpty, "\(plan)")
            for index in query.searches {
                #expect(plan.contains { $0.contains(" INDEX \(index) ") }, "\(index): \(plan)")
            }
        }
    }

    @Test("storing a job and changing its state build no temporary b-tree (a partial index's condition)",
          arguments: [("a new job", JobRecord.insertSQL), ("a change of state", JobRecord.updateSQL),
                      ("a published first dispatch made queued", BotyardStore.markQueuedSQL)])
    func jobWritesBuildNoTemporaryTree(_ write: String, _ sql: String) async throws {
        try await withTemporaryStore { store, _ in
            let opcodes = try await store.database.read { db in
                let unbound = StatementArguments(Array(repeating: DatabaseValue.null, count: sql.count { $0 == "?" }))
                return try Row.fetchAll(db, sql: "EXPLAIN " + sql, arguments: unbound).map { $0["opcode"] as String }
            }
            #expect(!opcodes.contains("OpenEphemeral"), "\(write)")
        }
    }

    @Test("only launches for an account take an entry in the index of what holds accounts, not every waiting job")
    func untargetedJobsStayOutOfTheAccountsIndex() async throws {
        try await withTemporaryStore { store, _ in
            let bot = BotDefinition(name: "echo", argv: ["/bin/echo"])
            try await store.saveBot(bot)
            _ = try await store.submitBatch(Array(repeating: SubmitJobRequest(bot: "echo", group: "g1"), count: 5))
            try await store.markPublished(try await store.outbox(limit: 10))
            try await store.database.write { db in
                try db.execute(sql: "UPDATE jobs SET dispatchHost = 'h1', account = 'robot1' WHERE id = 1")
            }
            let entries = try await store.database.read { db in
                try Int.fetchOne(db, sql: """
                    SELECT sum(ncell) FROM dbstat WHERE name = 'jobs_dispatched_to' AND pagetype = 'leaf'
                    """)
            }
            #expect(entries == 1)
        }
    }

    @Test("""
        every connection keeps a large store's index pages at hand (a 16 MiB cache, the file mapped) \
        and lets a large savepoint's journal spill to a file (SQLite's default temp_store)
        """)
    func connectionsCacheMapAndSpill() async throws {
        try await withTemporaryStore { store, _ in
            @Sendable func settings(_ db: Database) throws -> [Int?] {
                try ["cache_size", "mmap_size", "temp_store"].map { try Int.fetchOne(db, sql: "PRAGMA \($0)") }
            }
            let read = try await store.database.read(settings)
            let written = try await store.database.write(settings)
            for connection in [read, written] {
                #expect(connection == [-16_384, 1 << 30, 0])
            }
        }
    }

    @Test("statement journals stay in memory up to 127 KiB in the dispatcher's processes, set before SQLite starts")
    func statementJournalsStayInMemory() {
        #expect(StatementJournalSpill.bytes == 127 * 1024)
    }

    @Test("SQLite counts no allocations in the dispatcher's processes: none takes a process-wide lock")
    func allocationsAreNotCounted() async throws {
        #expect(SQLiteAllocationCounting.isOff)
        try await withTemporaryStore { store, _ in
            let bot = BotDefinition(name: "echo", argv: ["/bin/echo"])
            try await store.saveBot(bot)
            _ = try await store.submit(SubmitJobRequest(bot: "echo", group: "g1"), bot: bot)
            #expect(sqlite3_memory_used() == 0)
        }
    }

    @Test("a statement whose journal outgrows memory spills it to a file, and its transaction commits")
    func largeStatementJournalSpills() async throws {
        try await withTemporaryFolder { folder in
            let pool = try DatabasePool(path: folder.appendingPathComponent("spill.sqlite").path)
            try pool.write { db in
                try db.execute(sql: """
                    CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL UNIQUE, b TEXT NOT NULL);
                    CREATE INDEX t_b ON t(b);
                    """)
                for id in 0..<3_000 {
                    try db.execute(sql: "INSERT INTO t VALUES (?, ?, ?)",
                                   arguments: [id, id, String(repeating: "x", count: 200) + String(id)])
                }
            }
            // Every page of the table and its indexes: megabytes of journal for one statement.
            try pool.write { db in try db.execute(sql: "UPDATE t SET a = a + 3000, b = b || 'y'") }
            #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT min(a) FROM t") } == 3_000)
        }
    }

    @Test("the job counts kept by the store's writes equal a count of the jobs through every change of state")
    func countsFollowEveryChange() async throws {
        try await withTemporaryStore { store, _ in
            let bot = BotDefinition(name: "echo", argv: ["/bin/echo"],
                                    retry: .fixed(maxAttempts: 2, waitMilliseconds: 0))
            try await store.saveBot(bot)
            var ids: [Int64] = []
            for _ in 0..<6 {
                ids.append(try await store.submit(SubmitJobRequest(bot: "echo", group: "g1"), bot: bot).id)
            }
            try await store.markPublished(try await store.outbox(limit: 10))
            func report(_ kind: JobEvent.Kind, _ id: Int64, attempt: Int = 1, _ result: JobOutcome.Result? = nil)
                async throws
            {
                let outcome = result.map { JobOutcome(result: $0, reason: "done") }
                _ = try await store.apply(JobEvent(kind: kind, jobID: id, attempt: attempt,
                                                   runID: "run-\(id)-\(attempt)", workerID: "w1",
                                                   host: "h1", account: nil, outcome: outcome), random: 0)
            }
            for id in ids.prefix(4) { try await report(.started, id) }
            try await report(.finished, ids[0], .succeeded)
            try await report(.finished, ids[1], .failed)
            try await report(.finished, ids[2], .businessException)
            _ = try await store.cancel(jobID: ids[5], reason: "not needed")
            var counted = try await Self.countedJobs(in: store)
            #expect(try await store.jobCounts() == counted)
            #expect(counted == [.succeeded: 1, .retrying: 1, .failed: 1, .running: 1, .queued: 1, .cancelled: 1])

            // A batch (counted once for all its jobs), with a job for an account that waits for it; a retry
            // that fails too, its job dead and requeued as a new one; retention's deletes.
            _ = try await store.submitBatch(Array(repeating: SubmitJobRequest(bot: "echo", group: "g1"), count: 3)
                                                + [SubmitJobRequest(bot: "echo", group: "g1", account: "robot1")])
            try await report(.started, ids[1], attempt: 2)
            try await report(.finished, ids[1], attempt: 2, .failed)
            guard case .requeued = try await store.requeueDead(jobID: ids[1], initiator: "test") else {
                Issue.record("the dead job was not requeued")
                return
            }
            counted = try await Self.countedJobs(in: store)
            #expect(try await store.jobCounts() == counted)
            #expect(counted == [.succeeded: 1, .failed: 1, .running: 1, .queued: 1, .cancelled: 1, .dead: 1,
                                .pending: 5])
            // The succeeded and failed jobs go; the cancelled one keeps its unpublished cancel message.
            let pass = try await store.applyRetention(RetentionPolicy(), at: Date() + 91 * RetentionPolicy.day)
            #expect(pass.jobs == 2)
            counted = try await Self.countedJobs(in: store)
            #expect(try await store.jobCounts() == counted)
            #expect(counted == [.running: 1, .queued: 1, .cancelled: 1, .dead: 1, .pending: 5])
        }
    }

    @Test("a store whose triggers kept its counts opens without them, the counts as they were, a row for each state")
    func countsOfAnEarlierStore() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("botyard.sqlite").path
            let old = try storeFile(at: path, migratedUpTo: "v17-access")
            try await old.write { db in
                try db.execute(sql: "INSERT INTO job_state_counts VALUES ('succeeded', 5), ('queued', 2)")
            }
            try old.close()
            let store = try await BotyardStore.open(path: path, durability: .normal)
            let (triggers, states) = try await store.database.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'"),
                 try String.fetchSet(db, sql: "SELECT state FROM job_state_counts"))
            }
            #expect(triggers == 0)
            #expect(states == Set(JobState.allCases.map(\.rawValue)))
            #expect(try await store.jobCounts() == [.succeeded: 5, .queued: 2])
        }
    }

    /// The jobs of each state, counted row by row.
    static func countedJobs(in store: BotyardStore) async throws -> [JobState: Int] {
        try await store.database.read { db in
            try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
                .reduce(into: [JobState: Int]()) { $0[JobState(rawValue: $1["state"])!] = $1["n"] }
        }
    }
}
