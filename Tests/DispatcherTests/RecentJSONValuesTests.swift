import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Recent JSON values")
struct RecentJSONValuesTests {
    @Test("a value read back from its text, and its text from the value, as the JSON coder spells them")
    func roundTrip() throws {
        let values = RecentJSONValues<RetryPolicy>()
        let policy = RetryPolicy.fixed(maxAttempts: 3, waitMilliseconds: 250)
        let text = try values.text(encoding: policy)
        #expect(text == String(decoding: try JSONCodec.encode(policy), as: UTF8.self))
        #expect(try values.value(decoding: text) == policy)
        // Another cache (another process, a restart) reads the text to the same value.
        let fresh = RecentJSONValues<RetryPolicy>()
        #expect(try fresh.value(decoding: text) == policy)
        #expect(try fresh.text(encoding: policy) == text)
    }

    @Test("more values than it keeps: each still read and written right, the oldest forgotten")
    func beyondCapacity() throws {
        let values = RecentJSONValues<RetryPolicy>(capacity: 2)
        let policies = (1...5).map { RetryPolicy.fixed(maxAttempts: $0, waitMilliseconds: 100 * $0) }
        for _ in 0..<2 {
            for policy in policies {
                let text = try values.text(encoding: policy)
                #expect(try JSONCodec.decode(RetryPolicy.self, from: Data(text.utf8)) == policy)
                #expect(try values.value(decoding: text) == policy)
                #expect(values.count <= 2)
            }
        }
        #expect(throws: CodecError.self) { try values.value(decoding: "{\"maxAttempts\": \"three\"}") }
    }
}
