/// A time of day on a wall clock, to the minute: `08:00`. `24:00` is the end of the day, for
/// the end of a window that runs to midnight.
public struct LocalTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Minutes since midnight, 0 through 1440 (`24:00`).
    public let minuteOfDay: Int

    public static let endOfDay = LocalTime(uncheckedMinuteOfDay: 24 * 60)

    /// Nil unless `hour:minute` is a time from `00:00` to `24:00`.
    public init?(hour: Int, minute: Int) {
        guard (0...23).contains(hour) && (0...59).contains(minute) || hour == 24 && minute == 0 else { return nil }
        self.minuteOfDay = hour * 60 + minute
    }

    /// Reads `HH:mm` (`8:00` too).
    /// - Throws: ``ScheduleError/Code/invalidTime`` with the text.
    public init(parsing text: String) throws(ScheduleError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), let time = LocalTime(hour: hour, minute: minute)
        else {
            throw ScheduleError(.invalidTime, reason: "'\(text.prefix(64))' is not a time of day (HH:mm, 00:00-24:00)")
        }
        self = time
    }

    private init(uncheckedMinuteOfDay: Int) {
        self.minuteOfDay = uncheckedMinuteOfDay
    }

    public var hour: Int { minuteOfDay / 60 }
    public var minute: Int { minuteOfDay % 60 }

    public var description: String {
        "\(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute)"
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minuteOfDay < rhs.minuteOfDay }
}

/// Encoded as its `HH:mm` text.
extension LocalTime: TextCodable {}
