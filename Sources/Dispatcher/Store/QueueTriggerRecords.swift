import Foundation
import GRDB
import Shared

/// A row of `queue_triggers`: a trigger's settings, its last evaluation and when it next looks again.
struct QueueTriggerRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "queue_triggers"

    var queue: String
    var definition: QueueTriggerDefinition
    var lastEvaluation: QueueTriggerReport?
    var nextRecheckAt: Date
    /// `exact` only: when the queue's earliest postponed item becomes ready.
    var nextReadyAt: Date?
    var createdAt: Date
    var updatedAt: Date

    var snapshot: QueueTriggerSnapshot {
        QueueTriggerSnapshot(definition: definition, lastEvaluation: lastEvaluation, nextRecheckAt: nextRecheckAt,
                             createdAt: createdAt, updatedAt: updatedAt)
    }

    /// When the trigger must be evaluated next without being asked: the recheck, or (for
    /// `exact`) a postponed item becoming ready.
    var nextWake: Date {
        nextReadyAt.map { min($0, nextRecheckAt) } ?? nextRecheckAt
    }
}

/// What a trigger counts of its queue and its jobs, read for many queues at once.
struct QueueTriggerCounts {
    /// The job states a trigger counts as its live jobs.
    static let pendingStates: [JobState] = [.pending, .queued, .retrying]
    static let runningStates: [JobState] = [.running, .paused]
    static let liveStatesSQL = "(" + (pendingStates + runningStates).map { "'\($0.rawValue)'" }.joined(separator: ",") + ")"

    var inputs: [String: QueueTriggerInputs] = [:]
    /// Per queue: when its earliest postponed item becomes ready.
    var nextReady: [String: Date] = [:]

    /// The counts of `queues` (every queue with items or trigger jobs when nil) at `now`.
    static func read(_ queues: [String]?, at now: Date, in db: Database) throws -> QueueTriggerCounts {
        var counts = QueueTriggerCounts()
        let (itemsFilter, jobsFilter, arguments) = filters(queues)
        for row in try Row.fetchAll(db, sql: """
            SELECT queue,
                   SUM(postponeUntil IS NULL OR postponeUntil <= ?) AS ready,
                   COUNT(CASE WHEN postponeUntil > ? THEN 1 END) AS deferred,
                   MIN(CASE WHEN postponeUntil > ? THEN postponeUntil END) AS nextReady
            FROM work_items WHERE state = 'new' \(itemsFilter) GROUP BY queue
            """, arguments: [now, now, now] + arguments) {
            let queue: String = row["queue"]
            counts.inputs[queue] = QueueTriggerInputs(readyItems: row["ready"], deferredItems: row["deferred"])
            counts.nextReady[queue] = row["nextReady"]
        }
        let running = runningStates.map { "'\($0.rawValue)'" }.joined(separator: ",")
        for row in try Row.fetchAll(db, sql: """
            SELECT triggerQueue AS queue, state IN (\(running)) AS running, COUNT(*) AS jobs,
                   SUM(NOT EXISTS (SELECT 1 FROM work_items
                                   WHERE claimedByJob = jobs.id AND work_items.state = 'in-progress')) AS holdingNone
            FROM jobs WHERE triggerQueue IS NOT NULL AND state IN \(liveStatesSQL) \(jobsFilter)
            GROUP BY triggerQueue, running
            """, arguments: arguments) {
            let queue: String = row["queue"]
            var inputs = counts.inputs[queue] ?? QueueTriggerInputs(readyItems: 0)
            if row["running"] as Bool {
                inputs.runningJobs = row["jobs"]
            } else {
                inputs.pendingJobs = row["jobs"]
            }
            inputs.jobsHoldingNoItem += row["holdingNone"] as Int
            counts.inputs[queue] = inputs
        }
        return counts
    }

    /// The queue's counts (zeros when it has neither items nor jobs).
    subscript(queue: String) -> QueueTriggerInputs {
        inputs[queue] ?? QueueTriggerInputs(readyItems: 0)
    }

    private static func filters(_ queues: [String]?) -> (items: String, jobs: String, StatementArguments) {
        guard let queues else { return ("", "", StatementArguments()) }
        let marks = queues.map { _ in "?" }.joined(separator: ",")
        return ("AND queue IN (\(marks))", "AND triggerQueue IN (\(marks))", StatementArguments(queues))
    }
}
