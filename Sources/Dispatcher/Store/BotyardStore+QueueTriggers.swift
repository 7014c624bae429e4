import Foundation
import GRDB
import Shared

/// What saving a queue trigger did.
public enum QueueTriggerSaveResult: Sendable {
    /// Saved (`created` false: replaced the queue's trigger), and evaluated at once when enabled.
    case saved(QueueTriggerSnapshot, created: Bool)
    case noQueue
    case unknownBot
}

/// What one pass over the triggers due for an evaluation did.
public struct QueueTriggerPass: Sendable, Equatable {
    public var evaluated: Int
    /// The jobs started, by queue.
    public var startedJobs: [String: [Int64]]
    public var jobsStarted: Int { startedJobs.values.map(\.count).reduce(0, +) }
    /// When the next trigger is due (nil when there is none).
    public var next: Date?
}

extension BotyardStore {
    /// Stores the trigger of a work queue (one per queue, replacing any) and evaluates it, as
    /// its creation calls for, in the same transaction.
    public func saveTrigger(_ definition: QueueTriggerDefinition,
                            at now: Date = Date()) async throws -> QueueTriggerSaveResult {
        try await write("save queue trigger") { db in
            guard try WorkQueueRecord.exists(db, key: definition.queue) else { return .noQueue }
            guard try BotRecord.exists(db, key: definition.bot) else { return .unknownBot }
            let existing = try QueueTriggerRecord.fetchOne(db, key: definition.queue)
            var trigger = QueueTriggerRecord(
                queue: definition.queue, definition: definition,
                nextRecheckAt: now.addingTimeInterval(Double(definition.recheckMinutes * 60)), nextReadyAt: nil,
                createdAt: existing?.createdAt ?? now, updatedAt: now)
            try trigger.save(db)
            try Self.evaluate(&trigger, .saved, at: now, in: db)
            let evaluation = try QueueTriggerEvaluationRow.fetch(queue: trigger.queue, in: db)
            return .saved(trigger.snapshot(lastEvaluation: evaluation), created: existing == nil)
        }
    }

    public func trigger(ofQueue queue: String) async throws -> QueueTriggerSnapshot? {
        try await read("read queue trigger") { db in
            try QueueTriggerRecord.fetchOne(db, key: queue)?.snapshot(
                lastEvaluation: try QueueTriggerEvaluationRow.fetch(queue: queue, in: db))
        }
    }

    public func triggers() async throws -> [QueueTriggerSnapshot] {
        try await read("list queue triggers") { db in
            let evaluations = try QueueTriggerEvaluationRow.fetchAll(in: db)
            return try QueueTriggerRecord.order(Column("queue")).fetchAll(db).map {
                $0.snapshot(lastEvaluation: evaluations[$0.queue])
            }
        }
    }

    /// Deletes a queue's trigger (its jobs run on). False when there was none.
    public func deleteTrigger(ofQueue queue: String) async throws -> Bool {
        try await write("delete queue trigger") { db in try QueueTriggerRecord.deleteOne(db, key: queue) }
    }

    /// Evaluates every trigger whose recheck is due, and every `exact` trigger whose queue has a
    /// postponed item that became ready — in one transaction, their counts read in one pass.
    public func evaluateDueTriggers(at now: Date = Date()) async throws -> QueueTriggerPass {
        let nextSQL = "SELECT MIN(MIN(nextRecheckAt, COALESCE(nextReadyAt, nextRecheckAt))) FROM queue_triggers"
        // Nearly every pass finds nothing due: one read says so without holding up the writers.
        let earliest = try await read("look at queue triggers") { db in try Date.fetchOne(db, sql: nextSQL) }
        guard let earliest, earliest <= now else {
            return QueueTriggerPass(evaluated: 0, startedJobs: [:], next: earliest)
        }
        return try await write("evaluate due queue triggers") { db in
            let due = try Row.fetchAll(db, sql: """
                SELECT queue, definition, nextRecheckAt FROM queue_triggers
                WHERE nextRecheckAt <= ? OR nextReadyAt <= ?
                """, arguments: [now, now])
            let counts = try QueueTriggerCounts.read(due.map { $0["queue"] }, at: now, in: db)
            var started: [String: [Int64]] = [:]
            let dates = DatabaseDates()
            for row in due {
                guard let definition = try? self.triggerDefinitions.definition(named: row["queue"],
                                                                               json: row["definition"])
                else {
                    // Unreadable settings: not evaluated, and not due again at once.
                    try Self.record(queue: row["queue"], nil, nextReadyAt: nil, nextRecheckAt: now.addingTimeInterval(
                        Double(QueueTriggerDefinition.minimumRecheckMinutes * 60)), dates: dates, in: db)
                    continue
                }
                var nextRecheckAt: Date = row["nextRecheckAt"]
                let cause: QueueTriggerCause = nextRecheckAt <= now ? .recheck : .postponementOver
                if cause == .recheck { nextRecheckAt = now.addingTimeInterval(Double(definition.recheckMinutes * 60)) }
                let (report, nextReadyAt) = try Self.evaluate(definition, cause, counts: counts, at: now, in: db)
                try Self.record(queue: row["queue"], report, nextReadyAt: nextReadyAt, nextRecheckAt: nextRecheckAt,
                                dates: dates, in: db)
                if let report, !report.startedJobs.isEmpty {
                    started[row["queue"], default: []] += report.startedJobs
                }
            }
            let next = try Date.fetchOne(db, sql: nextSQL)
            return QueueTriggerPass(evaluated: due.count, startedJobs: started, next: next)
        }
    }
}
