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
