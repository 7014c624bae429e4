import Foundation

/// Writes one JSON object field by field, for a message some of whose parts are JSON text
/// already (a stored snapshot, stored inputs): those are spliced in as they are, instead of
/// decoded and encoded again by `JSONEncoder`.
///
/// Strings are escaped as RFC 8259 asks and as `JSONEncoder` escapes them (`"`, `\` and control
/// characters; `/` and non-ASCII left as they are, as ``JSONCodec`` writes them). Fields come out
/// in the order written; a reader of JSON does not care.
public struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var isEmpty = true

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    public mutating func field(_ key: StaticString, _ value: Int64) {
        start(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func field(_ key: StaticString, _ value: Int) {
        field(key, Int64(value))
    }

    /// A string field, escaped.
    public mutating func field(_ key: StaticString, _ value: String) {
        start(key)
        appendQuoted(value)
    }

    /// A string field, left out when `value` is nil (as a synthesized `Encodable` does).
    public mutating func field(_ key: StaticString, ifPresent value: String?) {
        if let value { field(key, value) }
    }

    public mutating func field(_ key: StaticString, _ value: Bool) {
        start(key)
        bytes.append(contentsOf: value ? Self.trueText : Self.falseText)
    }

    /// A date as ``JSONCodec`` writes dates (``Timestamp``).
    public mutating func field(_ key: StaticString, _ value: Date) {
        field(key, Timestamp.format(value))
    }

    /// An object of strings, its keys sorted (as ``JSONCodec`` writes them).
    public mutating func field(_ key: StaticString, _ value: [String: String]) {
        start(key)
        bytes.append(UInt8(ascii: "{"))
        for (index, entry) in value.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendQuoted(entry.key)
            bytes.append(UInt8(ascii: ":"))
            appendQuoted(entry.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// An object written by its own ``JSONWritable/write(to:)``.
    public mutating func field(_ key: StaticString, object value: some JSONWritable) {
        start(key)
        appendObject(value)
    }

    /// An array of objects, each written by its own ``JSONWritable/write(to:)``.
    public mutating func field(_ key: StaticString, objects values: [some JSONWritable]) {
        start(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendObject(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A nested object left out when `value` is nil.
    public mutating func field(_ key: StaticString, objectIfPresent value: (some JSONWritable)?) {
        if let value { field(key, object: value) }
    }

    /// A field whose value is JSON text already (an object, an array, a number…), written as it is.
    /// The caller vouches for the text: it is not checked.
    public mutating func field(_ key: StaticString, json: String) {
        start(key)
        bytes.append(contentsOf: json.utf8)
    }

    /// A JSON-text field left out when `json` is nil.
    public mutating func field(_ key: StaticString, jsonIfPresent json: String?) {
        if let json { field(key, json: json) }
    }

    /// The object, closed.
    public consuming func finish() -> Data {
        bytes.append(UInt8(ascii: "}"))
        return Data(bytes)
    }

    /// `value`'s object, written on at the end of these bytes by a writer of its own: the bytes are
    /// moved to it and back, never copied (a copy for each object of an array grows with the square
    /// of its length).
    private mutating func appendObject(_ value: some JSONWritable) {
        var nested = JSONObjectWriter(openingAfter: &bytes)
        value.write(to: &nested)
        nested.bytes.append(UInt8(ascii: "}"))
        swap(&bytes, &nested.bytes)
    }

    /// A writer of an object that begins at the end of `bytes`, which it takes.
    private init(openingAfter bytes: inout [UInt8]) {
        self.bytes = []
        swap(&self.bytes, &bytes)
        self.bytes.append(UInt8(ascii: "{"))
    }

    private mutating func start(_ key: StaticString) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                bytes.append(contentsOf: Self.controlEscape)
                Hexadecimal.append(byte, to: &bytes)
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let controlEscape = Array(#"\u00"#.utf8)
    private static let trueText = Array("true".utf8)
    private static let falseText = Array("false".utf8)
}
