import GRDB
import Shared

/// `job_state_counts`: how many jobs are in each state (`GET /v1/stats`, the metrics), so that
/// nobody counts a store of millions. The store's writes of `jobs` keep it in the transaction of
/// the change: a new job (``BotyardStore/insertNew(_:reason:in:)``), a change of state
/// (``JobRecord/updateRow(from:in:)``, the broker's confirm), a deleted job (retention).
///
/// Triggers on `jobs` kept it until issue 12's seventeenth session. A trigger makes every statement
/// on `jobs` one that may abort after changing two tables, so SQLite kept a statement journal for
/// each — a copy of every page the statement changed, made before changing it: some 30 % of the
/// CPU of storing a job, and of each change of its state.
enum JobStateCounts {
    /// A row for every state, so that each change is an UPDATE of rows that exist. Run when the
    /// store opens: a state added since the store was made gets its row.
    static func seed(in db: Database) throws {
        let states = JobState.allCases.map { "('\($0.rawValue)', 0)" }.joined(separator: ", ")
        try db.execute(sql: "INSERT OR IGNORE INTO job_state_counts (state, jobs) VALUES \(states)")
    }

    /// `count` jobs moved from `from` (nil: new jobs) to `to` (nil: deleted jobs).
    static func move(_ count: Int = 1, from: JobState?, to: JobState?, in db: Database) throws {
        guard count != 0, from != to else { return }
        // A statement for each row: one with `state IN (?, ?)` opened a temporary table for its list
        // on every run, up to three times the cost.
        let add = try db.cachedStatement(sql: addSQL)
        if let from { try add.execute(binding: -count, from.rawValue) }
        if let to { try add.execute(binding: count, to.rawValue) }
    }

    private static let addSQL = "UPDATE job_state_counts SET jobs = jobs + ? WHERE state = ?"

    /// What `body` returns, the moves it counted in `counts` saved after it.
    static func counting<Result>(in db: Database, _ body: (_ counts: inout Tally) throws -> Result) throws -> Result {
        var counts = Tally()
        let result = try body(&counts)
        try counts.save(in: db)
        return result
    }

    /// Moves counted in memory while one write stores many jobs (a batch), saved before its
    /// transaction ends with a statement for each state that changed (``save(in:)``), not two a job.
    struct Tally {
        private var changes: [JobState: Int] = [:]

        /// `count` jobs moved from `from` (nil: new jobs) to `to` (nil: deleted jobs).
        mutating func move(_ count: Int = 1, from: JobState?, to: JobState?) {
            guard count != 0, from != to else { return }
            if let from { changes[from, default: 0] -= count }
            if let to { changes[to, default: 0] += count }
        }

        /// Writes the moves counted so far, and starts again from none.
        mutating func save(in db: Database) throws {
            let add = try db.cachedStatement(sql: addSQL)
            for (state, count) in changes where count != 0 { try add.execute(binding: count, state.rawValue) }
            changes = [:]
        }
    }
}
