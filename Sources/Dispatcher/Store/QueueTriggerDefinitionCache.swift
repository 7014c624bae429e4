import Foundation
import Shared
import Synchronization

/// Decoded queue-trigger definitions, each kept with the time its row was last changed.
final class QueueTriggerDefinitionCache: Sendable {
    private let entries = Mutex<[String: (updatedAt: Date, definition: QueueTriggerDefinition)]>([:])

    /// The definition stored as `json` for `queue`, decoded once per change of the row.
    func definition(of queue: String, updatedAt: Date, json: String) throws -> QueueTriggerDefinition {
        if let entry = entries.withLock({ $0[queue] }), entry.updatedAt == updatedAt { return entry.definition }
        let definition = try JSONCodec.decode(QueueTriggerDefinition.self, from: Data(json.utf8))
        entries.withLock { $0[queue] = (updatedAt, definition) }
        return definition
    }
}
