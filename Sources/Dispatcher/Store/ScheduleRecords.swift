import Foundation
import GRDB
import Shared

/// A row of `schedules`: a schedule's settings and the firing it waits for.
struct ScheduleRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "schedules"

    var name: String
    var definition: ScheduleDefinition
    /// Null while paused, or when its cron never fires again.
    var nextFiringAt: Date?
    var createdAt: Date
    var updatedAt: Date

    static func databaseJSONEncoder(for column: String) -> JSONEncoder { JSONCodec.makeEncoder() }
    static func databaseJSONDecoder(for column: String) -> JSONDecoder { JSONCodec.makeDecoder() }
}

/// A row of `calendars`.
struct CalendarRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "calendars"

    var name: String
    var nonWorkingDates: [LocalDate]
    var createdAt: Date
    var updatedAt: Date

    static func databaseJSONEncoder(for column: String) -> JSONEncoder { JSONCodec.makeEncoder() }
    static func databaseJSONDecoder(for column: String) -> JSONDecoder { JSONCodec.makeDecoder() }

    var calendar: WorkingDayCalendar { WorkingDayCalendar(name: name, nonWorkingDates: nonWorkingDates) }
}

/// A row of `schedule_firings`: one handled firing and what it started.
struct ScheduleFiringRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "schedule_firings"

    var id: Int64?
    var schedule: String
    var scheduledFor: Date
    var handledAt: Date
    var outcome: ScheduleFiring.Outcome
    var reason: String
    var missedFirings: Int
    var jobID: Int64?
    var flowRunID: Int64?
    var p90RunSeconds: Double?
    var windowClosesAt: Date?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The API's view, with the state of the job or run it started, if any, and that run's kind.
    func firing(startedState: String?, flowKind: FlowKind?) -> ScheduleFiring {
        ScheduleFiring(id: id ?? 0, schedule: schedule, scheduledFor: scheduledFor, handledAt: handledAt,
                       outcome: outcome, reason: reason, missedFirings: missedFirings, jobID: jobID,
                       pipelineRunID: flowKind == .pipeline ? flowRunID : nil,
                       workflowRunID: flowKind == .workflow ? flowRunID : nil,
                       startedState: startedState, p90RunSeconds: p90RunSeconds, windowClosesAt: windowClosesAt)
    }

    /// Firings of `schedule`, newest first, with the state of what each started.
    static func history(of schedule: String, limit: Int, in db: Database) throws -> [ScheduleFiring] {
        try Row.fetchAll(db, sql: """
            SELECT f.*, COALESCE(j.state, r.state) AS startedState, r.kind AS flowKind
            FROM schedule_firings f
            LEFT JOIN jobs j ON j.id = f.jobID
            LEFT JOIN flow_runs r ON r.id = f.flowRunID
            WHERE f.schedule = ? ORDER BY f.id DESC LIMIT ?
            """, arguments: [schedule, limit]).map { row in
            try ScheduleFiringRecord(row: row).firing(startedState: row["startedState"],
                                                      flowKind: (row["flowKind"] as String?).flatMap(FlowKind.init))
        }
    }
}
