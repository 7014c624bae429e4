import Foundation
import GRDB

/// Fills a stopped dispatcher's store with finished jobs as a long-running installation holds
/// them: each job `succeeded` after one attempt, with its four lines of history, its two applied
/// reports and its log, copied from a job the dispatcher stored itself.
struct FinishedJobFiller {
    let path: String

    /// Adds `count` finished jobs, spread over ten groups, modelled on job `template`.
    func fill(_ count: Int, like template: Int64) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // A bulk load of a copy that nobody reads meanwhile: no syncs, one transaction.
            try db.execute(sql: "PRAGMA synchronous = OFF")
        }
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try database.write { db in
            let columns = try db.columns(in: "jobs").map(\.name).filter { $0 != "id" }
            let first = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM jobs")!
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO jobs (\(columns.map { "\"\($0)\"" }.joined(separator: ", ")))
                SELECT \(columns.map(Self.finishedValue).joined(separator: ", ")) FROM n, jobs AS t WHERE t.id = ?
                """, arguments: [count, template])
            let added = "FROM jobs WHERE id >= \(first)"
            try db.execute(sql: "UPDATE job_state_counts SET jobs = jobs + ? WHERE state = 'succeeded'",
                           arguments: [count])
            for (from, to, attempt, reason) in Self.history {
                try db.execute(sql: """
                    INSERT INTO job_history (jobID, at, fromState, toState, attempt, reason)
                    SELECT id, submittedAt, \(from.map { "'\($0)'" } ?? "NULL"), '\(to)', \(attempt), '\(reason)'
                    \(added)
                    """)
            }
            for _ in 0..<2 {
                try db.execute(sql: """
                    INSERT INTO applied_events (eventID, appliedAt, jobID)
                    SELECT lower(hex(randomblob(16))), finishedAt, id \(added)
                    """)
            }
            try db.execute(sql: "INSERT INTO job_logs SELECT id, 1, 'bot output' \(added)")
        }
    }

    /// The lines of a job's history from submission to success.
    private static let history: [(String?, String, Int, String)] = [
        (nil, "pending", 0, "submitted"),
        ("pending", "queued", 0, "confirmed by the broker"),
        ("queued", "running", 1, "attempt 1 started on host-0"),
        ("running", "succeeded", 1, "attempt 1 succeeded: exit code 0"),
    ]

    /// The value of `column` in a finished copy of the template `t`, the `n`-th.
    private static func finishedValue(_ column: String) -> String {
        switch column {
        case "group": "'history' || (i % 10)"
        case "state": "'succeeded'"
        case "attempts", "dispatchedAttempt": "1"
        case "runID": "'run-' || i"
        case "workerID": "'bench-0'"
        case "host": "'host-0'"
        case "exitCode": "0"
        case "startedAt", "finishedAt", "updatedAt": "t.submittedAt"
        case "apiToken": "lower(hex(randomblob(16)))"
        default: "t.\"\(column)\""
        }
    }
}
