import Foundation
import GRDB
import Shared

/// What one pass over the due schedules did.
public struct SchedulePass: Sendable, Equatable {
    /// Firings handled (each standing for the missed ones before it).
    public var handled: Int
    /// Jobs and runs started.
    public var started: Int
    /// What each firing that started something started: `job 12`, `pipeline run 3`, by schedule name.
    public var starts: [String: [String]] = [:]
    /// When the next schedule is due (nil when none is).
    public var next: Date?
}

extension BotyardStore {
    /// How many of the latest successful runs a start decision judges by.
    static let runsJudged = 20

    /// Handles every schedule whose firing is due at `now`, each as ``ScheduleFiringRule``
    /// decides, in one transaction: a firing is claimed by moving its schedule on to the next,
    /// and recorded once (`UNIQUE(schedule, scheduledFor)`), so two dispatchers never start it twice.
    /// - Parameter misfireThreshold: how late a firing may be handled and still be on time.
    public func fireDueSchedules(at now: Date = Date(),
                                 misfireThreshold: TimeInterval = ScheduleFiringRule.misfireThreshold) async throws
        -> SchedulePass {
        let nextSQL = "SELECT MIN(nextFiringAt) FROM schedules WHERE nextFiringAt IS NOT NULL"
        // Nearly every pass is on time for one firing; the read keeps the others from waiting on the writer.
        let earliest = try await read("look at schedules") { db in try Date.fetchOne(db, sql: nextSQL) }
        guard let earliest, earliest <= now else { return SchedulePass(handled: 0, started: 0, next: earliest) }
        return try await write("fire due schedules") { db in
            var pass = SchedulePass(handled: 0, started: 0, next: nil)
            let due = try ScheduleRecord.filter(Column("nextFiringAt") <= now).order(Column("nextFiringAt"))
                .fetchAll(db)
            for var record in due {
                let handled: ScheduleFiringRecord?
                do {
                    handled = try Self.fire(&record, at: now, misfireThreshold: misfireThreshold, in: db)
                } catch let error as ScheduleError {
                    handled = try Self.pause(&record, because: error, at: now, in: db)
                }
                guard let firing = handled else { continue }
                pass.handled += 1
                if firing.outcome == .started {
                    pass.started += 1
                    pass.starts[record.name, default: []].append(Self.startedWhat(firing))
                }
            }
            pass.next = try Date.fetchOne(db, sql: nextSQL)
            return pass
        }
    }

    /// What a firing started, in a log line's words: `job 12`, or `flow run 3`.
    private static func startedWhat(_ firing: ScheduleFiringRecord) -> String {
        firing.jobID.map { "job \($0)" } ?? firing.flowRunID.map { "flow run \($0)" } ?? "nothing"
    }

    /// Handles the due firing of `record`: records it, starts its run unless the rule or the
    /// window says no, and moves the schedule on to its next firing. Nil when nothing was due.
    private static func fire(_ record: inout ScheduleRecord, at now: Date, misfireThreshold: TimeInterval,
                             in db: Database) throws -> ScheduleFiringRecord? {
        guard let due = record.nextFiringAt else { return nil }
        let definition = record.definition
        let schedule = try schedule(of: definition, in: db)
        guard case .handle(let firing) = ScheduleFiringRule.decide(
            schedule, due: due, policy: definition.missedRunPolicy, at: now, misfireThreshold: misfireThreshold)
        else { return nil }
        var row = ScheduleFiringRecord(
            id: nil, schedule: record.name, scheduledFor: firing.scheduledFor, handledAt: now, outcome: .skipped,
            reason: firing.reason, missedFirings: firing.missed?.count ?? 0, jobID: nil, flowRunID: nil,
            p90RunSeconds: nil, windowClosesAt: nil)
        if firing.startsRun {
            let decision = StartDecision.decide(at: now, in: schedule.timeZone, window: definition.window,
                                                recentRunTimes: try recentRunTimes(of: definition.target, in: db))
            row.p90RunSeconds = decision.p90RunSeconds
            row.windowClosesAt = decision.windowClosesAt
            if let reason = decision.reason {
                row.reason += "; not started: \(reason)"
            } else {
                try start(definition, into: &row, at: now, in: db)
            }
        }
        try row.insert(db)
        record.nextFiringAt = firing.next
        try record.update(db)
        return row
    }

    /// Pauses a schedule whose stored cron or zone can no longer be read (a zone the system's time
    /// zone database dropped), with a failed firing that says why, so that it never holds up the others.
    private static func pause(_ record: inout ScheduleRecord, because error: ScheduleError, at now: Date,
                              in db: Database) throws -> ScheduleFiringRecord {
        var row = ScheduleFiringRecord(
            id: nil, schedule: record.name, scheduledFor: record.nextFiringAt ?? now, handledAt: now, outcome: .failed,
            reason: "cannot read its schedule any more (\(error)); paused until it is saved again", missedFirings: 0,
            jobID: nil, flowRunID: nil, p90RunSeconds: nil, windowClosesAt: nil)
        try row.insert(db)
        record.definition.enabled = false
        record.nextFiringAt = nil
        record.updatedAt = now
        try record.update(db)
        return row
    }

    /// Starts the schedule's job or run and notes it, or why it could not, in `row`.
    private static func start(_ definition: ScheduleDefinition, into row: inout ScheduleFiringRecord, at now: Date,
                              in db: Database) throws {
        let initiator = "schedule \(definition.name)"
        switch definition.target {
        case .bot(let job):
            guard let bot = try BotRecord.fetchOne(db, key: job.bot)?.definition else {
                row.outcome = .failed
                row.reason += "; no bot named '\(job.bot)' any more"
                return
            }
            let request = SubmitJobRequest(bot: job.bot, group: job.group, priority: job.priority,
                                           environment: job.environment, inputs: job.inputs,
                                           launchMethod: .schedule, initiator: initiator)
            let submitted = try insertSubmitted(request, bot: bot, parent: nil, at: now, in: db)
            row.jobID = submitted.id
            if submitted.state == .rejected {
                row.outcome = .refused
                row.reason += "; \(submitted.reason ?? "refused")"
            } else {
                row.outcome = .started
            }
        case .flow(let kind, let name):
            guard let run = try startRun(of: kind, named: name, initiator: initiator, at: now, in: db) else {
                row.outcome = .failed
                row.reason += "; no \(kind.rawValue) named '\(name)' any more"
                return
            }
            row.flowRunID = run.id
            row.outcome = .started
        }
    }

    /// How long the bot's latest successful runs took, in seconds to the millisecond, newest first.
    static func recentRunTimes(ofBot bot: String, in db: Database) throws -> [TimeInterval] {
        try Double.fetchAll(db, sql: recentRunTimesSQL, arguments: [bot, runsJudged])
    }

    /// Read through `jobs_bot_succeeded`, newest first: as many rows as it judges, whatever the store holds.
    static let recentRunTimesSQL = """
        SELECT ROUND((julianday(finishedAt) - julianday(startedAt)) * 86400.0, 3) FROM jobs
        WHERE bot = ? AND state = 'succeeded' AND startedAt IS NOT NULL AND finishedAt IS NOT NULL
        ORDER BY id DESC LIMIT ?
        """

    /// How long the target's latest successful runs took, in seconds to the millisecond (julianday's
    /// doubles are off by microseconds), newest first.
    private static func recentRunTimes(of target: ScheduleTarget, in db: Database) throws -> [TimeInterval] {
        switch target {
        case .bot(let job):
            return try recentRunTimes(ofBot: job.bot, in: db)
        case .flow(let kind, let name):
            return try Double.fetchAll(db, sql: """
                SELECT ROUND((julianday(finishedAt) - julianday(createdAt)) * 86400.0, 3) FROM flow_runs
                WHERE kind = ? AND name = ? AND state = 'succeeded' AND finishedAt IS NOT NULL
                ORDER BY id DESC LIMIT ?
                """, arguments: [kind.rawValue, name, runsJudged])
        }
    }
}
