import Foundation
import Shared
import Synchronization

/// The few values a JSON column holds again and again (a job's retry policy: its bot's, mostly),
/// each with its text: a row read or written with one of them skips the JSON coder. At most
/// `capacity` kept, the oldest forgotten first, so that values that vary do not pile up.
final class RecentJSONValues<Value: Codable & Equatable & Sendable>: Sendable {
    private let entries = Mutex<[(text: String, value: Value)]>([])
    private let capacity: Int

    init(capacity: Int = 16) {
        self.capacity = capacity
    }

    /// The value `text` spells.
    func value(decoding text: String) throws -> Value {
        if let value = entries.withLock({ $0.first(where: { $0.text == text })?.value }) { return value }
        let value = try JSONCodec.decode(Value.self, from: Data(text.utf8))
        keep(text, value)
        return value
    }

    /// `value` as JSON text.
    func text(encoding value: Value) throws -> String {
        if let text = entries.withLock({ $0.first(where: { $0.value == value })?.text }) { return text }
        let text = String(decoding: try JSONCodec.encode(value), as: UTF8.self)
        keep(text, value)
        return text
    }

    /// Values kept now.
    var count: Int { entries.withLock { $0.count } }

    private func keep(_ text: String, _ value: Value) {
        entries.withLock { entries in
            if entries.count == capacity { entries.removeFirst() }
            entries.append((text, value))
        }
    }
}
