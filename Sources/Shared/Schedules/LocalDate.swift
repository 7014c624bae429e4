import Foundation

/// A date on a wall calendar (Gregorian), without a time or a zone: `2026-12-24`.
public struct LocalDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil unless the date exists (`2027-02-29` does not), in years 1 to 9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        let components = DateComponents(year: year, month: month, day: day)
        // Foundation rolls 02-30 over to 03-02: a date exists if it reads back the same.
        guard let start = Self.utc.date(from: components),
              case let read = Self.utc.dateComponents([.year, .month, .day], from: start),
              (read.year, read.month, read.day) == (year, month, day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads `yyyy-MM-dd`.
    /// - Throws: ``ScheduleError/Code/invalidDate`` with the text.
    public init(parsing text: String) throws(ScheduleError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.map(\.count) == [4, 2, 2],
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              let date = LocalDate(year: year, month: month, day: day)
        else {
            throw ScheduleError(.invalidDate, reason: "'\(text.prefix(64))' is not a date (yyyy-MM-dd)")
        }
        self = date
    }

    /// The date the clocks of `zone` show at `instant`.
    public init(_ instant: Date, in zone: TimeZone) {
        self.init(components: Self.calendar(in: zone).dateComponents([.year, .month, .day], from: instant))
    }

    private init(components: DateComponents) {
        year = components.year ?? 1970
        month = components.month ?? 1
        day = components.day ?? 1
    }

    /// The instant the date starts in UTC; local wall-clock times are placed from it.
    var startInUTC: Date {
        Self.utc.date(from: DateComponents(year: year, month: month, day: day)) ?? Date(timeIntervalSince1970: 0)
    }

    public var weekday: Weekday { Weekday(foundationWeekday: Self.utc.component(.weekday, from: startInUTC)) }

    public func adding(days: Int) -> LocalDate {
        LocalDate(components: Self.utc.dateComponents(
            [.year, .month, .day], from: startInUTC.addingTimeInterval(Double(days) * 86_400)))
    }

    /// The first day of the month after this date's.
    var firstOfNextMonth: LocalDate {
        month == 12 ? LocalDate(components: DateComponents(year: year + 1, month: 1, day: 1))
            : LocalDate(components: DateComponents(year: year, month: month + 1, day: 1))
    }

    public var description: String {
        func padded(_ value: Int, _ width: Int) -> String {
            String(repeating: "0", count: max(0, width - String(value).count)) + String(value)
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// A Gregorian calendar on `zone`'s clocks.
    static func calendar(in zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// Dates counted in UTC, which has no daylight saving: a day there is always 86,400 seconds.
    private static let utc = calendar(in: .gmt)
}

/// Encoded as its `yyyy-MM-dd` text.
extension LocalDate: TextCodable {}
