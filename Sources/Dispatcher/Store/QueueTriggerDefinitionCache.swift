import Foundation
import Shared
import Synchronization

/// Decoded queue-trigger definitions, each kept with the JSON text it came from.
final class QueueTriggerDefinitionCache: Sendable {
    private let entries = Mutex<[String: (json: String, definition: QueueTriggerDefinition)]>([:])

    /// The definition stored as `json` for `queue`, decoded again only when the text changed.
    func definition(of queue: String, json: String) throws -> QueueTriggerDefinition {
        if let entry = entries.withLock({ $0[queue] }), entry.json == json { return entry.definition }
        let definition = try JSONCodec.decode(QueueTriggerDefinition.self, from: Data(json.utf8))
        entries.withLock { $0[queue] = (json, definition) }
        return definition
    }
}
