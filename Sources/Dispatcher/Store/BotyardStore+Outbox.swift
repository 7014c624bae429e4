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
                      job.state == .pending, try !RobotQueueRecord.exists(db, key: record.jobID)
                else { continue }
                try Self.transition(&job, to: .queued, attempt: 0, reason: "confirmed by the broker", at: now, in: db)
            }
        }
    }

    /// Number of messages waiting to be published.
    public func outboxCount() throws -> Int {
        try read("count outbox") { db in try OutboxRecord.fetchCount(db) }
    }
}
