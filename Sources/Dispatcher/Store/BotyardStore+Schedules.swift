import Foundation
import GRDB
import Shared

/// What saving a schedule did.
public enum ScheduleSaveResult: Sendable {
    /// Saved (`created` false: replaced the one of that name); it waits for its next firing.
    case saved(ScheduleSnapshot, created: Bool)
    /// It names a bot, pipeline, workflow or calendar that does not exist, or can never start a
    /// run; in words.
    case invalid([String])
}

extension BotyardStore {
    /// How many firings ahead a save looks for one inside the schedule's window.
    static let firingsSearchedForWindow = 1_000

    /// Stores a schedule, new or over the one of its name: it waits for its first firing after
    /// `now` (firings missed while it was replaced or paused are not made up).
    public func saveSchedule(_ definition: ScheduleDefinition,
                             at now: Date = Date()) async throws -> ScheduleSaveResult {
        try await write("save schedule") { db in
            let calendar = try definition.calendar.flatMap { try CalendarRecord.fetchOne(db, key: $0) }
            var problems = try Self.missingNames(of: definition, calendarFound: calendar != nil, in: db)
            guard problems.isEmpty else { return .invalid(problems) }
            let schedule = try Schedule(definition, calendar: calendar?.calendar)
            problems += Self.windowProblems(of: definition, schedule, after: now)
            guard problems.isEmpty else { return .invalid(problems) }
            let existing = try ScheduleRecord.fetchOne(db, key: definition.name)
            let record = ScheduleRecord(
                name: definition.name, definition: definition,
                nextFiringAt: definition.enabled ? schedule.nextFiring(after: now) : nil,
                createdAt: existing?.createdAt ?? now, updatedAt: now)
            try record.save(db)
            return .saved(try Self.snapshot(of: record, at: now, in: db), created: existing == nil)
        }
    }

    public func schedule(named name: String, at now: Date = Date()) async throws -> ScheduleSnapshot? {
        try await read("read schedule") { db in
            try ScheduleRecord.fetchOne(db, key: name).map { try Self.snapshot(of: $0, at: now, in: db) }
        }
    }

    public func schedules(at now: Date = Date()) async throws -> [ScheduleSnapshot] {
        try await read("list schedules") { db in
            try ScheduleRecord.order(Column("name")).fetchAll(db).map { try Self.snapshot(of: $0, at: now, in: db) }
        }
    }

    /// Pauses (`enabled` false) or resumes a schedule. A paused schedule starts nothing and its
    /// firings while paused are not made up: a resumed one waits for its next firing after `now`.
    /// Nil when there is no such schedule.
    public func setSchedule(_ name: String, enabled: Bool, at now: Date = Date()) async throws -> ScheduleSnapshot? {
        try await write("\(enabled ? "resume" : "pause") schedule") { db in
            guard var record = try ScheduleRecord.fetchOne(db, key: name) else { return nil }
            if record.definition.enabled != enabled {
                record.definition.enabled = enabled
                record.nextFiringAt = enabled ? try Self.schedule(of: record.definition, in: db).nextFiring(after: now) : nil
                record.updatedAt = now
                try record.update(db)
            }
            return try Self.snapshot(of: record, at: now, in: db)
        }
    }

    /// Deletes a schedule and its history (what it started stays). False when there was none.
    public func deleteSchedule(named name: String) async throws -> Bool {
        try await write("delete schedule") { db in try ScheduleRecord.deleteOne(db, key: name) }
    }

    /// The schedule's firings, newest first, with the state of what each started; nil when there
    /// is no such schedule.
    public func firings(ofSchedule name: String, limit: Int = 100) async throws -> [ScheduleFiring]? {
        try await read("read schedule firings") { db in
            guard try ScheduleRecord.exists(db, key: name) else { return nil }
            return try ScheduleFiringRecord.history(of: name, limit: limit, in: db)
        }
    }

    /// The schedule of a stored definition, with its calendar's dates as they are now.
    static func schedule(of definition: ScheduleDefinition, in db: Database) throws -> Schedule {
        let calendar = try definition.calendar.flatMap { try CalendarRecord.fetchOne(db, key: $0) }
        return try Schedule(definition, calendar: calendar?.calendar)
    }

    /// The API's view; a schedule paused because its stored cron or zone can no longer be read
    /// shows no next firings, and its history says why.
    static func snapshot(of record: ScheduleRecord, at now: Date, in db: Database) throws -> ScheduleSnapshot {
        var next: [ZonedInstant] = []
        if let first = record.nextFiringAt {
            do {
                let schedule = try schedule(of: record.definition, in: db)
                next = ([first] + schedule.nextFirings(count: ScheduleSnapshot.shownFirings - 1, after: first))
                    .map { ZonedInstant($0, in: schedule.timeZone) }
            } catch is ScheduleError {
                // Paused at its next firing, which the history explains.
            }
        }
        return ScheduleSnapshot(
            definition: record.definition, nextFirings: next,
            lastFiring: try ScheduleFiringRecord.history(of: record.name, limit: 1, in: db).first,
            createdAt: record.createdAt, updatedAt: record.updatedAt)
    }

    /// The names the definition uses that nothing answers to.
    private static func missingNames(of definition: ScheduleDefinition, calendarFound: Bool,
                                     in db: Database) throws -> [String] {
        var problems: [String] = []
        switch definition.target {
        case .bot(let job):
            if try !BotRecord.exists(db, key: job.bot) { problems.append("no bot named '\(job.bot)'") }
        case .flow(let kind, let name):
            if try !FlowRecord.exists(db, key: ["kind": kind.rawValue, "name": name]) {
                problems.append("no \(kind.rawValue) named '\(name)'")
            }
        }
        if let calendar = definition.calendar, !calendarFound { problems.append("no calendar named '\(calendar)'") }
        return problems
    }

    /// A window that none of the schedule's next firings falls in would never let it start a run.
    private static func windowProblems(of definition: ScheduleDefinition, _ schedule: Schedule,
                                       after now: Date) -> [String] {
        guard let window = definition.window else { return [] }
        let firings = schedule.nextFirings(count: firingsSearchedForWindow, after: now)
        guard !firings.isEmpty, !firings.contains(where: { window.contains($0, in: schedule.timeZone) }) else {
            return []
        }
        return ["window: none of its next \(firings.count) firings falls inside \(window), so it never starts a run"]
    }
}
