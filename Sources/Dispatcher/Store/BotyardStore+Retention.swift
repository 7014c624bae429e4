import Foundation
import GRDB
import Shared

extension BotyardStore {
    /// Deletes what `policy` no longer keeps, `batchSize` rows per transaction, so that
    /// submissions get the writer between batches.
    public func applyRetention(_ policy: RetentionPolicy, at now: Date = Date(),
                               batchSize: Int = 500) async throws -> RetentionPass {
        let cutoffs = policy.cutoffs(at: now)
        var pass = RetentionPass()
        pass.jobLogs = try await deleteInBatches("delete old job logs", Self.oldJobLogsSQL,
                                                 [cutoffs.jobLogs.storedValue], batchSize: batchSize)
        pass.jobs = try await deleteInBatches("delete old finished jobs", Self.oldJobsSQL,
                                              [cutoffs.finishedJobs.storedValue], batchSize: batchSize) { db, ids in
            // A schedule's firing keeps its time and outcome; the job it started is gone.
            try db.execute(sql: "UPDATE schedule_firings SET jobID = NULL WHERE jobID IN (\(ids))")
            let deleted = try Row.fetchAll(db, sql: """
                SELECT state, COUNT(*) FROM jobs WHERE id IN (\(ids)) GROUP BY state
                """)
            for row in deleted { try JobStateCounts.move(row[1], from: JobState(rawValue: row[0]), to: nil, in: db) }
        }
        pass.appliedEvents = try await deleteInBatches("delete old applied events", Self.oldAppliedEventsSQL,
                                                       [cutoffs.appliedEvents.storedValue], batchSize: batchSize)
        pass.workers = try await deleteInBatches("delete silent workers", Self.silentWorkersSQL,
                                                 [cutoffs.silentWorkers.storedValue], batchSize: batchSize)
        pass.auditEntries = try await deleteInBatches("delete old audit entries", Self.oldAuditEntriesSQL,
                                                      [cutoffs.auditEntries.storedValue], batchSize: batchSize)
        return pass
    }

    /// Runs `selectSQL` (which selects the rowids of up to `?` rows of one table, its own
    /// arguments first) and deletes those rows, batch after batch, until none is left.
    private func deleteInBatches(_ operation: String, _ selectSQL: (table: String, sql: String),
                                 _ arguments: StatementArguments, batchSize: Int,
                                 before: @escaping @Sendable (Database, String) throws -> Void = { _, _ in })
        async throws -> Int
    {
        var deleted = 0
        while true {
            let count = try await write(operation) { db -> Int in
                let ids = try Int64.fetchAll(db, sql: selectSQL.sql, arguments: arguments + [batchSize])
                guard !ids.isEmpty else { return 0 }
                let list = ids.map(String.init).joined(separator: ",")
                try before(db, list)
                try db.execute(sql: "DELETE FROM \(selectSQL.table) WHERE rowid IN (\(list))")
                return ids.count
            }
            deleted += count
            guard count == batchSize else { return deleted }
            await Task.yield()
        }
    }

    static let finishedStates = "('succeeded', 'failed', 'cancelled', 'rejected')"

    /// Through `audit_log_at`.
    static let oldAuditEntriesSQL = (table: "audit_log", sql: "SELECT id FROM audit_log WHERE at < ? LIMIT ?")

    /// Through `jobs_finished`, by when the jobs finished. The `+` keeps SQLite from choosing
    /// `jobs_on_state` for the state instead, as it did: that read every finished job in each pass,
    /// a third of a second with a million of them, while the pass held the store's one writer and
    /// every submission waited.
    ///
    /// A job with a message still in the outbox stays. The outbox is read once a search (`NOT IN`,
    /// an uncorrelated list), not once for each old job (`NOT EXISTS` over `outbox.jobID`, which
    /// has no index): with 20,000 messages held back by a broker outage, a batch of 500 took 532
    /// ms of the writer that way, 3.7 ms this way.
    static let oldJobsSQL = (table: "jobs", sql: """
        SELECT id FROM jobs
        WHERE finishedAt < ? AND +state IN \(finishedStates) AND flowRun IS NULL
          AND NOT EXISTS (SELECT 1 FROM jobs child WHERE child.parentJob = jobs.id)
          AND id NOT IN (SELECT jobID FROM outbox)
        LIMIT ?
        """)

    /// Through `jobs_finished`, as ``oldJobsSQL``.
    static let oldJobLogsSQL = (table: "job_logs", sql: """
        SELECT job_logs.rowid FROM job_logs JOIN jobs ON jobs.id = job_logs.jobID
        WHERE jobs.finishedAt < ? AND +jobs.state IN \(finishedStates)
        LIMIT ?
        """)

    static let oldAppliedEventsSQL = (table: "applied_events", sql: """
        SELECT applied_events.rowid FROM applied_events LEFT JOIN jobs ON jobs.id = applied_events.jobID
        WHERE applied_events.appliedAt < ?
          AND (jobs.id IS NULL OR jobs.state IN \(finishedStates) OR jobs.state = 'dead')
        LIMIT ?
        """)

    static let silentWorkersSQL = (table: "workers", sql: """
        SELECT rowid FROM workers WHERE lastSeen < ? LIMIT ?
        """)
}
