import Foundation
import GRDB
import Testing

@testable import Dispatcher

@Suite("Dates as the store writes them")
struct StoredDateTests {
    @Test("the fast formatter writes exactly GRDB's text, for 200,000 random times and the edges")
    func sameTextAsGRDB() {
        var generator = SystemRandomNumberGenerator()
        var dates = (0..<200_000).map { _ in
            Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...4_200_000_000, using: &generator))
        }
        dates += [0, 0.0005, 0.9995, 0.999_999, -0.0005, -1, 1_700_000_000.123, 1_700_000_000.999_999_9,
                  951_782_400, 4_107_542_400, -62_135_596_800, -12_219_292_800, -12_212_553_600].map(Date.init(timeIntervalSince1970:))
        dates += [Date(), Date.distantPast, Date.distantFuture]
        let different = dates.filter { $0.storedValue != $0.databaseValue }
        let examples = different.prefix(3).map { "\($0.timeIntervalSince1970): \($0.storedValue) ≠ \($0.databaseValue)" }
        #expect(different.count == 0, "\(examples)")
    }
}
