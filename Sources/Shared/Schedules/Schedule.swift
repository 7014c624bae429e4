import Foundation

/// When a schedule fires: its cron expression on the clocks of its time zone, except on the
/// non-working dates of its calendar.
public struct Schedule: Sendable {
    public var cron: CronExpression
    public var timeZone: TimeZone
    /// Dates, on the clocks of `timeZone`, on which it does not fire.
    public var nonWorkingDates: Set<LocalDate>

    public init(cron: CronExpression, timeZone: TimeZone, calendar: WorkingDayCalendar? = nil) {
        self.cron = cron
        self.timeZone = timeZone
        self.nonWorkingDates = Set(calendar?.nonWorkingDates ?? [])
    }

    /// The schedule of `definition`, with `calendar` being the one it names (if it names one).
    /// - Throws: ``ScheduleError`` for its cron expression or its time zone.
    public init(_ definition: ScheduleDefinition, calendar: WorkingDayCalendar?) throws(ScheduleError) {
        self.init(cron: try CronExpression(parsing: definition.cron),
                  timeZone: try Self.timeZone(definition.timeZone), calendar: calendar)
    }

    /// The first firing strictly after `instant` that does not fall on a non-working date.
    public func nextFiring(after instant: Date) -> Date? {
        cron.nextFiring(after: instant, in: timeZone) { nonWorkingDates.contains($0) }
    }

    /// The next `count` firings after `instant`, in order: what the API shows as the next ones.
    public func nextFirings(count: Int, after instant: Date) -> [Date] {
        CronExpression.firings(count: count, after: instant) { nextFiring(after: $0) }
    }

    /// Why `identifier` names no zone Foundation knows, in words; empty when it names one.
    public static func timeZoneProblems(_ identifier: String) -> [String] {
        do throws(ScheduleError) {
            _ = try timeZone(identifier)
            return []
        } catch {
            return [error.description]
        }
    }

    /// The zone with an IANA identifier (`Europe/Berlin`, `UTC`), as Foundation knows it.
    /// - Throws: ``ScheduleError/Code/unknownTimeZone`` naming the identifier.
    public static func timeZone(_ identifier: String) throws(ScheduleError) -> TimeZone {
        guard let zone = TimeZone(identifier: identifier) else {
            throw ScheduleError(.unknownTimeZone, reason: "unknown time zone '\(identifier.prefix(64))'")
        }
        return zone
    }
}
