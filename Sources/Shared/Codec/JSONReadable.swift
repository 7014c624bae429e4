import Foundation

/// A type read from a ``JSONNode`` by hand as well as through `Decodable`.
///
/// Codable's generic route through `JSONDecoder` and `JSONEncoder` cost a busy worker a sixth of its
/// CPU for the job messages it read and the reports it wrote, and the dispatcher a twelfth, mostly
/// for the reports (README, "Messages read and written by hand"). ``JSONCodec/decode(_:from:)``
/// reads such a type by hand first and decodes the same data with `JSONDecoder` when the hand
/// reading throws: the hand reading only has to get well-formed messages right, and every error
/// still reads as `JSONDecoder` puts it. `init(json:)` must read what `init(from:)` reads, defaults
/// included; the types' tests decode the same texts both ways.
public protocol JSONReadable: Decodable {
    init(json: JSONNode) throws(JSONMismatch)
}

/// A type written as JSON by hand (``JSONObjectWriter``) as well as through `Encodable`: the same
/// text `JSONCodec.encode` writes through `Encodable` (keys sorted), faster.
public protocol JSONWritable: Encodable {
    func write(to writer: inout JSONObjectWriter)
}

extension String: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        guard case .string(let text) = json else { throw JSONMismatch() }
        self = text
    }
}

extension Bool: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        guard case .bool(let value) = json else { throw JSONMismatch() }
        self = value
    }
}

extension Int: JSONReadable {}
extension Int32: JSONReadable {}
extension Int64: JSONReadable {}

extension JSONReadable where Self: FixedWidthInteger {
    /// An integer written without fraction or exponent, in the type's range.
    public init(json: JSONNode) throws(JSONMismatch) {
        guard case .number(let text) = json, let value = Self(text) else { throw JSONMismatch() }
        self = value
    }
}

extension Double: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        guard case .number(let text) = json, let value = Double(text), value.isFinite else { throw JSONMismatch() }
        self = value
    }
}

extension Date: JSONReadable {
    /// A ``Timestamp``, as ``JSONCodec`` writes dates.
    public init(json: JSONNode) throws(JSONMismatch) {
        guard case .string(let text) = json, let date = Timestamp.parse(text) else { throw JSONMismatch() }
        self = date
    }
}

extension Array: JSONReadable where Element: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        self = try json.array().map { value throws(JSONMismatch) in try Element(json: value) }
    }
}

extension Dictionary: JSONReadable where Key == String, Value: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(minimumCapacity: object.members.count)
        for member in object.members {
            guard self.updateValue(try Value(json: member.value), forKey: member.key) == nil else {
                throw JSONMismatch()
            }
        }
    }
}

extension JSONReadable where Self: RawRepresentable, RawValue == String {
    /// A case by its raw value, as a `String`-backed enum decodes.
    public init(json: JSONNode) throws(JSONMismatch) {
        guard let value = Self(rawValue: try String(json: json)) else { throw JSONMismatch() }
        self = value
    }
}
