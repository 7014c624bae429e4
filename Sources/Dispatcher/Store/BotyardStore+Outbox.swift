import Foundation
import GRDB
import Shared

extension BotyardStore {
    /// The oldest messages still waiting to be published.
    func outbox(limit: Int) throws -> [OutboxRecord] {
        try read("read outbox") { db in try OutboxRecord.order(Column("id")).limit(limit).fetchAll(db) }
    }

    /// Deletes confirmed messages; a confirmed first dispatch moves its job from `pending` to
    /// `queued` (unless a worker already reported it started, or it went back to the robot queue).
    func markPublished(_ records: [OutboxRecord], at now: Date = Date()) throws {
        guard !records.isEmpty else { return }
        try write("mark published") { db in
            for record in records {
                try OutboxRecord.deleteOne(db, key: record.id)
                guard record.kind == .dispatch, var job = try JobRecord.fetchOne(db, key: record.jobID),
                      job.state == .pending,
                      try job.account == nil || !RobotQueueRecord.exists(db, key: record.jobID)
                else { continue }
                try Self.transition(&job, to: .queued, attempt: 0, reason: "confirmed by the broker", at: now, in: db)
            }
        }
    }

    /// Drops a job's messages of `kinds` that are still waiting to be published.
    static func dropUnpublished(_ kinds: [OutboxRecord.Kind], ofJob jobID: Int64, in db: Database) throws {
        try OutboxRecord.filter(Column("jobID") == jobID && kinds.map(\.rawValue).contains(Column("kind"))).deleteAll(db)
    }

    /// Number of messages waiting to be published.
    public func outboxCount() throws -> Int {
        try read("count outbox") { db in try OutboxRecord.fetchCount(db) }
    }
}
