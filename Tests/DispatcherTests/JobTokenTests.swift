import Foundation
import Testing

@testable import Dispatcher

@Suite("Job tokens")
struct JobTokenTests {
    @Test("a token is 44 lowercase hexadecimal digits: its time, then 128 random bits")
    func shape() {
        let token = JobToken.generate(at: Date(timeIntervalSince1970: 1_764_780_000.123))
        #expect(token.utf8.count == 44 && token.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(token.hasPrefix(String(1_764_780_000_123, radix: 16).leftPadded(to: 12)))
    }

    @Test("tokens drawn later sort after earlier ones, so the index of tokens grows at its end")
    func timeOrdered() {
        // Two milliseconds apart: one apart, a binary fraction may floor to the same millisecond.
        let tokens = (0..<1_000).map {
            JobToken.generate(at: Date(timeIntervalSince1970: 1_764_780_000 + 0.002 * Double($0)))
        }
        #expect(tokens == tokens.sorted())
    }

    @Test("tokens drawn in the same millisecond differ")
    func randomWithinAMillisecond() {
        let now = Date()
        #expect(Set((0..<1_000).map { _ in JobToken.generate(at: now) }).count == 1_000)
    }
}

private extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
