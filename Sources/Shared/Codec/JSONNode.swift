import Foundation

/// A JSON document read into plain values (``JSONReader``), from which the few types that cross
/// the broker once or twice for every job read themselves by hand (``JSONReadable``).
public enum JSONNode: Sendable {
    case null
    case bool(Bool)
    /// A number as written; a reader parses it into the type it wants.
    case number(String)
    case string(String)
    case array([JSONNode])
    case object(JSONObject)

    /// `data` read as one JSON document; nil when it is not one, or is one ``JSONReader`` leaves to
    /// `JSONDecoder` (see there).
    public init?(reading data: Data) {
        guard let value = JSONReader.read(data) else { return nil }
        self = value
    }

    public func object() throws(JSONMismatch) -> JSONObject {
        guard case .object(let object) = self else { throw JSONMismatch() }
        return object
    }

    public func array() throws(JSONMismatch) -> [JSONNode] {
        guard case .array(let items) = self else { throw JSONMismatch() }
        return items
    }
}

/// A JSON object's members in the order written.
public struct JSONObject: Sendable {
    public struct Member: Sendable {
        public var key: String
        public var value: JSONNode
    }

    public var members: [Member]

    /// The value of `key`; nil when the object has none. A key written twice is a mismatch: readers
    /// of JSON disagree on which one counts, so it is left to `JSONDecoder`.
    public func value(_ key: String) throws(JSONMismatch) -> JSONNode? {
        var found: JSONNode?
        for member in members where member.key == key {
            guard found == nil else { throw JSONMismatch() }
            found = member.value
        }
        return found
    }

    /// `key`'s value as `Value`, as `KeyedDecodingContainer.decode(_:forKey:)` reads it.
    public func decode<Value: JSONReadable>(_ key: String, as type: Value.Type = Value.self)
        throws(JSONMismatch) -> Value {
        guard let value = try value(key) else { throw JSONMismatch() }
        return try Value(json: value)
    }

    /// `key`'s value as `Value`, nil when absent or `null`, as `decodeIfPresent(_:forKey:)` reads it.
    public func decodeIfPresent<Value: JSONReadable>(_ key: String, as type: Value.Type = Value.self)
        throws(JSONMismatch) -> Value? {
        guard let value = try value(key) else { return nil }
        if case .null = value { return nil }
        return try Value(json: value)
    }
}

/// A JSON value that is not what the reading type takes. It carries no detail on purpose: the
/// caller decodes the same data again with `JSONDecoder`, whose error says what was wrong where.
public struct JSONMismatch: Error, Sendable {
    public init() {}
}
