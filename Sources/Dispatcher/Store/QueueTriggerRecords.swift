import Foundation
import GRDB
import Shared

/// A row of `queue_triggers`: a trigger's settings and when it next looks again.
struct QueueTriggerRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "queue_triggers"

    var queue: String
    var definition: QueueTriggerDefinition
    var nextRecheckAt: Date
    /// `exact` only: when the queue's earliest postponed item becomes ready.
    var nextReadyAt: Date?
    var createdAt: Date
    var updatedAt: Date

    // The definition is read and written with Botyard's codec, as the recheck pass reads it directly.
    static func databaseJSONEncoder(for column: String) -> JSONEncoder { JSONCodec.makeEncoder() }
    static func databaseJSONDecoder(for column: String) -> JSONDecoder { JSONCodec.makeDecoder() }

    func snapshot(lastEvaluation: QueueTriggerReport?) -> QueueTriggerSnapshot {
        QueueTriggerSnapshot(definition: definition, lastEvaluation: lastEvaluation, nextRecheckAt: nextRecheckAt,
                             createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// `queue_trigger_evaluations`: each trigger's last evaluation, one row per trigger.
enum QueueTriggerEvaluationRow {
    static let numbers = ["readyItems", "deferredItems", "inProgressItems", "pendingJobs", "runningJobs",
                          "desiredJobs", "countedJobs", "capacity", "jobsToStart"]

    /// Stores `report` as the trigger's last evaluation (one cached statement: a recheck stores many).
    static func save(_ report: QueueTriggerReport, queue: String, at: DatabaseValue, in db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO queue_trigger_evaluations
                (queue, at, cause, strategy, \(numbers.joined(separator: ", ")), reason, startedJobs, problem)
            VALUES (?, ?, ?, ?, \(numbers.map { _ in "?" }.joined(separator: ", ")), ?, ?, ?)
            """)
        let evaluation = report.evaluation
        let inputs = evaluation.inputs
        let values: [(any DatabaseValueConvertible)?] = [
            queue, at, report.cause, evaluation.strategy.rawValue,
            inputs.readyItems, inputs.deferredItems, inputs.inProgressItems, inputs.pendingJobs, inputs.runningJobs,
            evaluation.desiredJobs, evaluation.countedJobs, evaluation.capacity, evaluation.jobsToStart,
            evaluation.reason, report.startedJobs.map(String.init).joined(separator: ","), report.problem,
        ]
        try statement.execute(arguments: StatementArguments(values))
    }

    static func fetch(queue: String, in db: Database) throws -> QueueTriggerReport? {
        try Row.fetchOne(db, sql: "SELECT * FROM queue_trigger_evaluations WHERE queue = ?", arguments: [queue])
            .map(report)
    }

    /// Every trigger's last evaluation, by queue.
    static func fetchAll(in db: Database) throws -> [String: QueueTriggerReport] {
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT * FROM queue_trigger_evaluations")
            .map { ($0["queue"], report($0)) })
    }

    private static func report(_ row: Row) -> QueueTriggerReport {
        let inputs = QueueTriggerInputs(readyItems: row["readyItems"], deferredItems: row["deferredItems"],
                                        inProgressItems: row["inProgressItems"], pendingJobs: row["pendingJobs"],
                                        runningJobs: row["runningJobs"])
        let evaluation = QueueTriggerEvaluation(
            strategy: QueueTriggerStrategy(rawValue: row["strategy"]) ?? .exact, inputs: inputs,
            desiredJobs: row["desiredJobs"], countedJobs: row["countedJobs"], capacity: row["capacity"],
            jobsToStart: row["jobsToStart"], reason: row["reason"])
        let started = (row["startedJobs"] as String).split(separator: ",").compactMap { Int64($0) }
        return QueueTriggerReport(at: row["at"], cause: row["cause"], evaluation: evaluation, startedJobs: started,
                                  problem: row["problem"])
    }
}

/// What a trigger counts of its queue and its jobs, read for many queues at once.
struct QueueTriggerCounts {
    /// The job states a trigger counts as its started jobs; the others of ``JobStateCondition/live`` wait.
    static let runningStates: [JobState] = [.running, .paused]

    var inputs: [String: QueueTriggerInputs] = [:]
    /// Per queue: when its earliest postponed item becomes ready.
    var nextReady: [String: Date] = [:]

    /// Per queue and whether started: its trigger's live jobs and the items they hold, through
    /// `jobs_trigger_live`; `filter` an `AND …` on `triggerQueue`, or empty.
    static func liveJobsSQL(_ filter: String) -> String {
        let running = runningStates.map { "'\($0.rawValue)'" }.joined(separator: ",")
        return """
            SELECT triggerQueue AS queue, state IN (\(running)) AS running, COUNT(*) AS jobs,
                   SUM(EXISTS (SELECT 1 FROM work_items WHERE claimedByJob = jobs.id
                          AND work_items.state = 'in-progress' AND work_items.queue = jobs.triggerQueue)) AS held
            FROM jobs WHERE triggerQueue IS NOT NULL AND \(JobStateCondition.live) \(filter)
            GROUP BY triggerQueue, running
            """
    }

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
        for row in try Row.fetchAll(db, sql: liveJobsSQL(jobsFilter), arguments: arguments) {
            let queue: String = row["queue"]
            var inputs = counts.inputs[queue] ?? QueueTriggerInputs(readyItems: 0)
            if row["running"] as Bool {
                inputs.runningJobs = row["jobs"]
            } else {
                inputs.pendingJobs = row["jobs"]
            }
            inputs.inProgressItems += row["held"] as Int
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
