import Foundation
import Shared
import Synchronization

/// Definitions stored as JSON (bots, work queues, queue triggers, a worker's accounts) as last
/// decoded, by name, each kept with the text it came from: a hot path reads the text and decodes
/// it again only when it changed, so a change made by any connection is seen at once.
final class DecodedDefinitions<Definition: Decodable & Sendable>: Sendable {
    private let entries = Mutex<[String: (json: String, definition: Definition)]>([:])
    private let limit: Int

    /// - Parameter limit: names kept at most; past it, all are forgotten (for names that come and
    ///   go, such as workers' ids).
    init(limit: Int = .max) {
        self.limit = limit
    }

    /// The definition stored as `json` under `name`.
    func definition(named name: String, json: String) throws -> Definition {
        if let entry = entries.withLock({ $0[name] }), entry.json == json { return entry.definition }
        let definition = try JSONCodec.decode(Definition.self, from: Data(json.utf8))
        keep(definition, json: json, named: name)
        return definition
    }

    private func keep(_ definition: Definition, json: String, named name: String) {
        entries.withLock { entries in
            if entries.count >= limit && entries[name] == nil { entries.removeAll() }
            entries[name] = (json, definition)
        }
    }

    /// Names kept now.
    var count: Int { entries.withLock { $0.count } }

    /// Forgets `name`'s definition (it was deleted).
    func forget(_ name: String) {
        entries.withLock { _ = $0.removeValue(forKey: name) }
    }
}

extension DecodedDefinitions where Definition: Encodable & Equatable {
    /// `definition` as JSON: the text it was last read or written as, when it is the same
    /// definition; encoded (and kept) otherwise.
    func json(of definition: Definition, named name: String) throws -> String {
        if let entry = entries.withLock({ $0[name] }), entry.definition == definition { return entry.json }
        let json = String(decoding: try JSONCodec.encode(definition), as: UTF8.self)
        keep(definition, json: json, named: name)
        return json
    }
}
