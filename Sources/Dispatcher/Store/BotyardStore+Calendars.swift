import Foundation
import GRDB
import Shared

/// What deleting a calendar did.
public enum CalendarDeleteResult: Sendable, Equatable {
    case deleted
    case notFound
    /// Schedules still name it, by name.
    case inUse([String])
}

extension BotyardStore {
    /// Stores a calendar, new or over the one of its name. The schedules that name it wait for
    /// their next firing under its new dates (a firing already due is handled as it was).
    /// - Returns: whether it was created.
    public func saveCalendar(_ calendar: WorkingDayCalendar, at now: Date = Date()) async throws -> Bool {
        try await write("save calendar") { db in
            let existing = try CalendarRecord.fetchOne(db, key: calendar.name)
            try CalendarRecord(name: calendar.name, nonWorkingDates: calendar.nonWorkingDates,
                               createdAt: existing?.createdAt ?? now, updatedAt: now).save(db)
            for var record in try Self.schedules(naming: calendar.name, in: db) {
                guard let next = record.nextFiringAt, next > now else { continue }
                record.nextFiringAt = try Self.schedule(of: record.definition, in: db).nextFiring(after: now)
                try record.update(db)
            }
            return existing == nil
        }
    }

    public func calendar(named name: String) async throws -> WorkingDayCalendar? {
        try await read("read calendar") { db in try CalendarRecord.fetchOne(db, key: name)?.calendar }
    }

    public func calendars() async throws -> [WorkingDayCalendar] {
        try await read("list calendars") { db in try CalendarRecord.order(Column("name")).fetchAll(db).map(\.calendar) }
    }

    /// Deletes a calendar that no schedule names.
    public func deleteCalendar(named name: String) async throws -> CalendarDeleteResult {
        try await write("delete calendar") { db in
            let users = try Self.schedules(naming: name, in: db).map(\.name)
            guard users.isEmpty else { return .inUse(users) }
            return try CalendarRecord.deleteOne(db, key: name) ? .deleted : .notFound
        }
    }

    private static func schedules(naming calendar: String, in db: Database) throws -> [ScheduleRecord] {
        try ScheduleRecord.filter(sql: "json_extract(definition, '$.calendar') = ?", arguments: [calendar])
            .order(Column("name")).fetchAll(db)
    }
}
