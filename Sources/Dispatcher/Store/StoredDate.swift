import Foundation
import GRDB

extension Date {
    /// The date as GRDB stores it (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), made by integer arithmetic:
    /// GRDB's own `databaseValue` goes through a shared `DateFormatter`, a few percent of the
    /// dispatcher's CPU on the job paths. A test holds the two to the same text.
    var storedValue: DatabaseValue {
        // As the formatter does: milliseconds since 1970, from the reference-date interval, to the
        // nearest (halves up).
        let milliseconds = Int64(((timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down))
        let (days, inDay) = milliseconds.floorDivided(by: 86_400_000)
        // Years 1583 to 9999: before, the formatter's calendar is Julian.
        guard (-141_349...2_932_896).contains(days) else { return databaseValue }
        let (year, month, day) = Self.civil(fromDays: days)
        let fields: [(value: Int64, digits: Int, then: UInt8)] = [
            (year, 4, UInt8(ascii: "-")), (month, 2, UInt8(ascii: "-")), (day, 2, UInt8(ascii: " ")),
            (inDay / 3_600_000, 2, UInt8(ascii: ":")), (inDay / 60_000 % 60, 2, UInt8(ascii: ":")),
            (inDay / 1000 % 60, 2, UInt8(ascii: ".")), (inDay % 1000, 3, 0),
        ]
        let text = String(unsafeUninitializedCapacity: 23) { buffer in
            var end = 0
            for field in fields {
                var value = field.value
                for place in (0..<field.digits).reversed() {
                    buffer[end + place] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                end += field.digits
                if field.then != 0 {
                    buffer[end] = field.then
                    end += 1
                }
            }
            return end
        }
        return text.databaseValue
    }

    /// Year, month and day of the `days`-th day since 1970-01-01 (proleptic Gregorian; Howard
    /// Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    /// Quotient rounded toward minus infinity, and the remainder that goes with it (never negative).
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
