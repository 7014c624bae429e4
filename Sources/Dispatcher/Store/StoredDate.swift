import Foundation
import GRDB
import Shared

extension Date {
    /// The date as GRDB stores it (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), by integer arithmetic
    /// (``Timestamp/format(milliseconds:separator:suffix:)``): GRDB's own `databaseValue` goes
    /// through a shared `DateFormatter`, a few percent of the dispatcher's CPU on the job paths.
    /// A test holds the two to the same text.
    var storedValue: DatabaseValue {
        // As the formatter does: milliseconds since 1970, from the reference-date interval, to the
        // nearest (halves up).
        let milliseconds = ((timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down)
        // Years 1583 to 9999 only: before, the formatter's calendar is Julian.
        guard (-12_212_553_600_000...253_402_300_799_999).contains(milliseconds) else { return databaseValue }
        return Timestamp.format(milliseconds: Int64(milliseconds), separator: UInt8(ascii: " "), suffix: nil)
            .databaseValue
    }
}

extension Date {
    /// The date `value` holds, as GRDB reads it; the text ``storedValue`` writes
    /// (`yyyy-MM-dd HH:mm:ss.SSS`) by integer arithmetic, where GRDB goes through a `Calendar`
    /// (1 % of the steady fleet's dispatcher). A test holds the two to the same dates.
    init?(storedValue value: DatabaseValue) {
        guard case .string(let text) = value.storage, let interval = Self.storedInterval(text) else {
            guard let date = Date.fromDatabaseValue(value) else { return nil }
            self = date
            return
        }
        self.init(timeIntervalSinceReferenceDate: interval)
    }

    /// Seconds since the reference date of `yyyy-MM-dd HH:mm:ss.SSS` with years 1583 to 9999, added
    /// up as the calendar adds them (the day's start, then the time of day with its fraction), so
    /// that the two agree to the last binary digit; nil for other text.
    private static func storedInterval(_ text: String) -> TimeInterval? {
        var text = text
        return text.withUTF8 { bytes -> TimeInterval? in
            guard bytes.count == 23, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
                  bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                  bytes[19] == UInt8(ascii: ".")
            else { return nil }
            func number(_ range: Range<Int>) -> Int64? {
                var value: Int64 = 0
                for byte in bytes[range] {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                    value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                }
                return value
            }
            guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
                  let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
                  let millisecond = number(20..<23),
                  (1583...9999).contains(year), (1...12).contains(month), (1...31).contains(day), hour < 24,
                  minute < 60, second < 60
            else { return nil }
            // 11,323 days from 1970 to 2001, the reference date.
            let days = daysSince1970(year: year, month: month, day: day) - 11_323
            let timeOfDay = Double(hour * 3600 + minute * 60 + second) + Double(millisecond) / 1000
            return Double(days * 86_400) + timeOfDay
        }
    }

    /// Days from 1970-01-01 to a day of the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`).
    private static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = year / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
