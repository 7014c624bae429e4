import Foundation

/// Writes one JSON object field by field, for a message some of whose parts are JSON text
/// already (a stored snapshot, stored inputs): those are spliced in as they are, instead of
/// decoded and encoded again by `JSONEncoder`.
///
/// Strings are escaped as RFC 8259 asks (`"`, `\` and control characters; `/` and non-ASCII
/// left as they are, as ``JSONCodec`` writes them). Fields come out in the order written; a
/// reader of JSON does not care.
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
}
