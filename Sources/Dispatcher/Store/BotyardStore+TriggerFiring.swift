import Foundation
import GRDB
import Shared

extension BotyardStore {
    /// Evaluates the trigger of `queue`, if it has one that `cause` concerns, in the caller's
    /// transaction; returns how many jobs it started. A database error rolls the caller's change
    /// back with it; a trigger whose stored settings cannot be read any more is left out, so that
    /// it never holds up the change (a report, an add, a claim, a lease keeper's pass).
    @discardableResult
    static func fireTrigger(ofQueue queue: String, _ cause: QueueTriggerCause, at now: Date,
                            in db: Database) throws -> Int {
        var started = 0
        do {
            try db.inSavepoint {
                if var trigger = try QueueTriggerRecord.fetchOne(db, key: queue), trigger.concerns(cause) {
                    started = try evaluate(&trigger, cause, at: now, in: db)
                }
                return .commit
            }
        } catch let error where !(error is DatabaseError) {
            return 0
        }
        return started
    }

    /// Tells a job's trigger that the job ended (called by ``transition(_:to:attempt:reason:at:in:)``).
    static func triggerJobEnded(_ job: JobRecord, at now: Date, in db: Database) throws {
        guard let queue = job.triggerQueue else { return }
        try fireTrigger(ofQueue: queue, .jobEnded(job.id!), at: now, in: db)
    }

    /// Runs the rule on the trigger's counts, starts the jobs it asks for and records the
    /// evaluation (and, when given, the next recheck) with one statement.
    @discardableResult
    static func evaluate(_ trigger: inout QueueTriggerRecord, _ cause: QueueTriggerCause,
                         counts: QueueTriggerCounts? = nil, at now: Date, in db: Database) throws -> Int {
        let (report, nextReadyAt) = try evaluate(trigger.definition, cause, counts: counts, at: now, in: db)
        trigger.nextReadyAt = nextReadyAt
        try record(queue: trigger.queue, report, nextReadyAt: nextReadyAt, nextRecheckAt: trigger.nextRecheckAt, in: db)
        return report?.startedJobs.count ?? 0
    }

    /// The evaluation of an enabled trigger (nil for a disabled one, which starts nothing), with
    /// the time its queue's earliest postponed item becomes ready when that concerns it. A launch
    /// that its group's admission table refuses (`queue-trigger` set to `sync` or `bounded`) is not
    /// stored: it and the rest of this evaluation's launches are left out, the reason is the report's problem.
    static func evaluate(_ definition: QueueTriggerDefinition, _ cause: QueueTriggerCause,
                         counts: QueueTriggerCounts?, at now: Date,
                         in db: Database) throws -> (QueueTriggerReport?, nextReadyAt: Date?) {
        guard definition.enabled else { return (nil, nil) }
        let counts = try counts ?? QueueTriggerCounts.read([definition.queue], at: now, in: db)
        let evaluation = QueueTriggerRule.evaluate(definition, counts[definition.queue])
        var started: [Int64] = []
        var problem: String?
        if evaluation.jobsToStart > 0 {
            (started, problem) = try launchJobs(evaluation.jobsToStart, of: definition, cause: cause, at: now, in: db)
        }
        let report = QueueTriggerReport(at: now, cause: cause.description, evaluation: evaluation,
                                        startedJobs: started, problem: problem)
        return (report, definition.strategy == .exact ? counts.nextReady[definition.queue] : nil)
    }

    /// Starts `count` jobs of the trigger, unless its bot is gone or its window holds them back,
    /// stopping at the first launch its group's admission refuses; returns the jobs started and
    /// why not all were.
    private static func launchJobs(_ count: Int, of definition: QueueTriggerDefinition, cause: QueueTriggerCause,
                                   at now: Date, in db: Database) throws -> (started: [Int64], problem: String?) {
        guard let bot = try BotRecord.fetchOne(db, key: definition.bot)?.definition else {
            return ([], "no bot named '\(definition.bot)' any more")
        }
        if let heldBack = try windowHoldsBack(definition, at: now, in: db) { return ([], "not started: \(heldBack)") }
        var started: [Int64] = []
        for _ in 0..<count {
            // Checked first: a rejected job's end would evaluate this trigger again, inside this evaluation.
            if definition.account == nil,
               let refusal = try admissionRejection(of: bot, into: definition.group, method: .queueTrigger, mode: nil,
                                                    at: now, in: db) {
                return (started, refusal)
            }
            started.append(try launchJob(of: definition, bot: bot, cause: cause, at: now, in: db))
        }
        return (started, nil)
    }

    /// Why the trigger's window keeps its jobs from starting now — outside it, or the bot's p90 run
    /// time ends after it closes; nil when they may start (or it has no window).
    private static func windowHoldsBack(_ definition: QueueTriggerDefinition, at now: Date,
                                        in db: Database) throws -> String? {
        guard let window = definition.window else { return nil }
        // Checked when saved; a zone the system's time zone database dropped since holds the jobs
        // back, rather than letting them start outside the window.
        let zone: TimeZone
        do throws(ScheduleError) {
            zone = try Schedule.timeZone(definition.timeZone)
        } catch {
            return error.description
        }
        return StartDecision.decide(at: now, in: zone, window: window,
                                    recentRunTimes: try recentRunTimes(ofBot: definition.bot, in: db)).reason
    }

    /// Stores what an evaluation changed of a trigger (a nil report keeps the last one).
    static func record(queue: String, _ report: QueueTriggerReport?, nextReadyAt: Date?, nextRecheckAt: Date,
                       dates: DatabaseDates = DatabaseDates(), in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "UPDATE queue_triggers SET nextReadyAt = ?, nextRecheckAt = ? WHERE queue = ?")
        try statement.execute(arguments: [nextReadyAt.map(dates.value), dates.value(nextRecheckAt), queue])
        if let report { try QueueTriggerEvaluationRow.save(report, queue: queue, at: dates.value(report.at), in: db) }
    }

    /// Stores one job of a trigger: `pending` with its outbox row, or, under an account, in the robot queue.
    private static func launchJob(of trigger: QueueTriggerDefinition, bot: BotDefinition, cause: QueueTriggerCause,
                                  at now: Date, in db: Database) throws -> Int64 {
        var job = JobRecord(
            id: nil, bot: bot.name, botSnapshot: bot, group: trigger.group, priority: trigger.priority,
            environment: trigger.environment, inputs: trigger.jobInputs, account: trigger.account, state: .pending,
            attempts: 0, dispatchedAttempt: 1, runID: nil, retryPolicy: bot.retry, timeoutSeconds: bot.timeoutSeconds,
            launchMethod: .queueTrigger, initiator: "queue trigger \(trigger.queue)", exitCode: nil, outputs: [:],
            reason: nil, workerID: nil, host: nil, ranAs: nil, submittedAt: now, startedAt: nil, finishedAt: nil,
            updatedAt: now, robotQueuePolicy: trigger.account == nil ? nil : RobotQueuePolicy(),
            triggerQueue: trigger.queue)
        let reason = "submitted by the trigger of queue \(trigger.queue) (\(cause))"
        if trigger.account != nil {
            try insertNew(&job, reason: reason, at: now, in: db)
            try placeTargeted(&job, sync: false, at: now, in: db)
        } else {
            try insertPending(&job, reason: reason, at: now, in: db)
        }
        return job.id!
    }
}

extension QueueTriggerRecord {
    /// Whether the trigger evaluates on `cause`: UiPath's evaluates on added items, on the
    /// recheck and (when reassessing) on its jobs' ends; `exact` on every change of its counts.
    func concerns(_ cause: QueueTriggerCause) -> Bool {
        switch cause {
        case .saved, .itemsAdded, .recheck: true
        case .jobEnded: definition.reassessOnJobCompletion || definition.strategy == .exact
        case .itemReturned, .postponementOver: definition.strategy == .exact
        }
    }
}

/// Dates as the database stores them, each formatted once: a recheck of many triggers writes the
/// same few dates again and again, and formatting one costs more than the rest of a row.
final class DatabaseDates {
    private var values: [Date: DatabaseValue] = [:]

    func value(_ date: Date) -> DatabaseValue {
        if let value = values[date] { return value }
        let value = date.databaseValue
        values[date] = value
        return value
    }
}
