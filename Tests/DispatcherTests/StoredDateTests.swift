import Foundation
import GRDB
import Testing

@testable import Dispatcher

/// `count` times from 1906 to 2103, at random.
func randomDates(_ count: Int) -> [Date] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in
        Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...4_200_000_000, using: &generator))
    }
}

@Suite("Dates as the store writes them")
struct StoredDateTests {
    @Test("the fast formatter writes exactly GRDB's text, for 200,000 random times and the edges")
    func sameTextAsGRDB() {
        var dates = randomDates(200_000)
        dates += [0, 0.0005, 0.9995, 0.999_999, -0.0005, -1, 1_700_000_000.123, 1_700_000_000.999_999_9,
                  951_782_400, 4_107_542_400, -62_135_596_800, -12_219_292_800, -12_212_553_600].map(Date.init(timeIntervalSince1970:))
        dates += [Date(), Date.distantPast, Date.distantFuture]
        let different = dates.filter { $0.storedValue != $0.databaseValue }
        let examples = different.prefix(3).map { "\($0.timeIntervalSince1970): \($0.storedValue) ≠ \($0.databaseValue)" }
        #expect(different.count == 0, "\(examples)")
    }
}

@Suite("Dates as the store reads them")
struct StoredDateReadingTests {
    @Test("the fast reader gives exactly GRDB's date for 200,000 random stored times and the edges")
    func sameDateAsGRDB() {
        var dates = randomDates(200_000)
        dates += [0, 0.001, 0.999, -0.001, -1, 1_700_000_000.123, 951_782_400, 4_107_542_400, -12_212_553_600,
                  253_402_300_799.999].map(Date.init(timeIntervalSince1970:))
        let different = dates.map(\.storedValue).filter { Date(storedValue: $0) != Date.fromDatabaseValue($0) }
        let examples = different.prefix(3).map { "\($0): \(String(describing: Date(storedValue: $0)))" }
        #expect(different.count == 0, "\(examples)")
    }

    @Test("text in other shapes, numbers and what is no date are read as GRDB reads them")
    func otherShapes() {
        let texts = [
            "2026-12-03 16:38:14", "2026-12-03", "2026-12-03T16:38:14.250", "2026-12-03 16:38:14.2",
            "1582-10-04 12:00:00.000", "2026-02-30 00:00:00.000", "2026-12-03 24:00:00.000", "2026-13-03 00:00:00.000",
            "2026-12-03 16:38:1x.000", "not a date", "",
        ]
        let values = texts.map(\.databaseValue) + [1_700_000_000.databaseValue, 1_700_000_000.5.databaseValue, .null]
        for value in values {
            #expect(Date(storedValue: value) == Date.fromDatabaseValue(value), "\(value)")
        }
    }
}
