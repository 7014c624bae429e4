import Foundation

/// The JSON encoding every Botyard message and API body uses: ISO-8601 dates, sorted keys.
public enum JSONCodec {
    /// Writes `value`, by hand when it is ``JSONWritable`` (the same text, faster).
    public static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        if let writable = value as? any JSONWritable { return encode(writable) }
        return try makeEncoder().encode(value)
    }

    /// Writes `value` by hand (``JSONWritable``): the text `encode` writes through `Encodable`.
    public static func encode<Value: JSONWritable>(_ value: Value) -> Data {
        var writer = JSONObjectWriter()
        value.write(to: &writer)
        return writer.finish()
    }

    /// Writes `values` as an array, each by hand (``JSONWritable``).
    public static func encode<Value: JSONWritable>(_ values: [Value]) -> Data {
        var text = Data([UInt8(ascii: "[")])
        for (index, value) in values.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            text.append(encode(value))
        }
        text.append(UInt8(ascii: "]"))
        return text
    }

    /// Decodes `Value`, turning any failure into a ``CodecError`` that says where the data was wrong.
    ///
    /// A ``JSONReadable`` type is read by hand first; where the hand reading does not take the data,
    /// it is decoded through `Decodable`, whose errors say what was wrong.
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws(CodecError) -> Value {
        if let readable = type as? any JSONReadable.Type, let value = readByHand(readable, from: data) as? Value {
            return value
        }
        return try decodeThroughDecodable(type, from: data)
    }

    private static func readByHand<Value: JSONReadable>(_ type: Value.Type, from data: Data) -> Value? {
        guard let json = JSONNode(reading: data) else { return nil }
        return try? Value(json: json)
    }

    private static func decodeThroughDecodable<Value: Decodable>(_ type: Value.Type,
                                                                 from data: Data) throws(CodecError) -> Value {
        do {
            return try makeDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw CodecError(type: String(describing: type), detail: describe(error), refused: error.refusedValue)
        } catch {
            throw CodecError(type: String(describing: type), detail: "\(error)")
        }
    }

    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO-8601 time: \(text)")
            }
            return date
        }
        return decoder
    }

    /// What was wrong where, in words: the path of the field and what it should have been.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "the top level" : "'\(path)'"
        }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "invalid value at \(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing field '\(key.stringValue)'\(parent)"
        case .typeMismatch(let type, let context):
            return "wrong type at \(path(context)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "missing value at \(path(context)): expected \(type)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A message or body that could not be decoded.
public struct CodecError: Error, CustomStringConvertible, Sendable {
    /// The type that was expected.
    public var type: String
    public var detail: String
    /// Well-formed, but a type refused a value (a ``RefusedValue``): an API's 422, not its 400.
    public var refused: Bool

    public init(type: String, detail: String, refused: Bool = false) {
        self.type = type
        self.detail = detail
        self.refused = refused
    }

    public var description: String { "cannot decode \(type): \(detail)" }
}

/// ISO-8601 times in UTC with milliseconds (`2023-11-14T22:13:20.123Z`).
///
/// Done with integer arithmetic: Foundation's ISO-8601 styles truncate the binary fraction of
/// a `Date`, which turns .123 into .122 on a round trip.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        format(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()), separator: UInt8(ascii: "T"),
               suffix: UInt8(ascii: "Z"))
    }

    /// `milliseconds` since 1970 in UTC as `YYYY-MM-DD<separator>HH:MM:SS.fff`, then `suffix` if
    /// given: the ISO-8601 text above, or (with a space and no suffix) the one SQLite's date
    /// functions and GRDB use.
    public static func format(milliseconds: Int64, separator: UInt8, suffix: UInt8?) -> String {
        var seconds = time_t(milliseconds.quotientAndRemainder(dividingBy: 1000).quotient)
        var fraction = Int(milliseconds % 1000)
        if fraction < 0 {
            seconds -= 1
            fraction += 1000
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else {
            return String(format: "%04d-%02d-%02d%@%02d:%02d:%02d.%03d%@", year, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), String(UnicodeScalar(separator)), Int(parts.tm_hour), Int(parts.tm_min),
                          Int(parts.tm_sec), fraction, suffix.map { String(UnicodeScalar($0)) } ?? "")
        }
        // Digits by hand: `String(format:)` was a measurable part of a work-item claim's cost.
        let fields: [(value: Int, digits: Int, then: UInt8?)] = [
            (year, 4, UInt8(ascii: "-")), (Int(parts.tm_mon) + 1, 2, UInt8(ascii: "-")),
            (Int(parts.tm_mday), 2, separator), (Int(parts.tm_hour), 2, UInt8(ascii: ":")),
            (Int(parts.tm_min), 2, UInt8(ascii: ":")), (Int(parts.tm_sec), 2, UInt8(ascii: ".")),
            (fraction, 3, suffix),
        ]
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var end = 0
            for field in fields {
                var value = field.value
                for place in (0..<field.digits).reversed() {
                    buffer[end + place] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                end += field.digits
                if let then = field.then {
                    buffer[end] = then
                    end += 1
                }
            }
            return end
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58,
              bytes.last == 90,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var milliseconds = 0
        if bytes.count > 20 {
            guard bytes[19] == 46, (21...30).contains(bytes.count), let digits = number(20..<(bytes.count - 1)) else {
                return nil
            }
            let places = bytes.count - 21
            milliseconds = places >= 3 ? digits / Int(pow(10, Double(places - 3))) : digits * Int(pow(10, Double(3 - places)))
        } else if bytes[19] != 90 {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: (Double(Int64(seconds) * 1000 + Int64(milliseconds))) / 1000)
    }
}
