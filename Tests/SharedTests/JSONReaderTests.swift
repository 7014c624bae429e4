import Foundation
import Testing

@testable import Shared

@Suite("JSON reader")
struct JSONReaderTests {
    /// The tree as plain Swift values, to compare with what `JSONSerialization` reads.
    static func plain(_ node: JSONNode) -> Any {
        switch node {
        case .null: NSNull()
        case .bool(let value): value
        case .number(let text): Double(text)!
        case .string(let text): text
        case .array(let items): items.map(plain)
        case .object(let object): Dictionary(uniqueKeysWithValues: object.members.map { ($0.key, plain($0.value)) })
        }
    }

    static let wellFormed = [
        #"{"a": [1, -2.5, 3e2, 0, -0, 1E-2], "b": {"c": null, "d": true, "e": false}, "f": ""}"#,
        " \t\r\n[ ] ",
        #"{"escapes": "\" \\ \/ \b \f \n \r \t \u0000 \u001f \u00e9 \u20AC \ud83e\udd16", "raw": ""#
            + "é 名前 🤖 \u{7F} \u{2028}\"}",
        #"[[[[[["deep"]]]]]]"#,
        "\"a string alone\"",
        "12",
    ]

    @Test("a well-formed document reads as JSONSerialization reads it")
    func wellFormedDocuments() throws {
        for text in Self.wellFormed {
            let node = try #require(JSONNode(reading: Data(text.utf8)), "\(text)")
            let expected = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
            #expect(NSDictionary(dictionary: ["v": Self.plain(node)]).isEqual(to: ["v": expected]), "\(text)")
        }
    }

    static let malformed: [[UInt8]] = [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, "{a:1}", "{'a':1}", #"{"a":1} x"#, "[1 2]",
        "01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "tru", "nul", "True",
        #""unterminated"#, #""bad \x escape""#, #""short \u12""#, #""lone \ud800 high""#,
        #""lone \udc00 low""#, #""high \ud800\u0041 then not low""#, "\"raw \t tab\"", "\"raw \n newline\"",
        String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
    ].map { Array($0.utf8) } + [
        [0x22, 0xC3, 0x28, 0x22],  // a broken two-byte sequence
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // a surrogate written as UTF-8
        [0x22, 0xE2, 0x82, 0x22],  // a cut three-byte sequence
        [0x22, 0xFF, 0x22],
    ]

    @Test("anything RFC 8259 does not allow reads as nothing")
    func malformedDocuments() {
        for bytes in Self.malformed {
            #expect(JSONNode(reading: Data(bytes)) == nil, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test("where the reader gives up, JSONCodec answers as JSONDecoder does, lenient where it is lenient")
    func fallbackToJSONDecoder() throws {
        // JSONDecoder takes a trailing comma and reads a string only when asked for it; the reader takes
        // neither, and JSONCodec's answer is JSONDecoder's.
        let documents = [#"{"a":"1",}"#, #"{"a":"lone \ud800"}"#, "{\"a\":\"raw \t tab\"}", #"{"a":1}"#,
                         #"{"a":"\x"}"#]
        for text in documents {
            let data = Data(text.utf8)
            #expect(JSONNode(reading: data).flatMap { try? [String: String](json: $0) } == nil, "\(text)")
            let byCodec = Result { () throws(CodecError) in try JSONCodec.decode([String: String].self, from: data) }
            let byDecoder = Result { try JSONCodec.makeDecoder().decode([String: String].self, from: data) }
            #expect((try? byCodec.get()) == (try? byDecoder.get()), "\(text)")
        }
        #expect(try JSONCodec.decode([String: String].self, from: Data(#"{"a":"1",}"#.utf8)) == ["a": "1"])
    }

    @Test("a document nested as deep as the limit reads")
    func depthLimit() throws {
        let depth = JSONReader.maximumDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(JSONNode(reading: Data(text.utf8)) != nil)
    }

    @Test("an object's key written twice is a mismatch, an absent one nothing")
    func duplicateKeys() throws {
        let object = try #require(JSONNode(reading: Data(#"{"a": 1, "b": 2, "a": 3}"#.utf8))).object()
        #expect(throws: JSONMismatch.self) { try object.value("a") }
        #expect(try object.decode("b", as: Int.self) == 2)
        #expect(try object.value("c") == nil)
        #expect(throws: JSONMismatch.self) {
            try [String: Int](json: #require(JSONNode(reading: Data(#"{"a": 1, "a": 3}"#.utf8))))
        }
    }

    @Test("numbers read as the type asks, or not at all")
    func numbers() throws {
        func node(_ text: String) throws -> JSONNode { try #require(JSONNode(reading: Data(text.utf8))) }
        #expect(try Int(json: node("-42")) == -42)
        #expect(try Int64(json: node("9223372036854775807")) == .max)
        #expect(throws: JSONMismatch.self) { try Int64(json: node("9223372036854775808")) }
        #expect(throws: JSONMismatch.self) { try Int32(json: node("2147483648")) }
        #expect(throws: JSONMismatch.self) { try Int(json: node("1.0")) }
        #expect(throws: JSONMismatch.self) { try Int(json: node("\"1\"")) }
        #expect(try Double(json: node("0.2")) == 0.2)
        #expect(throws: JSONMismatch.self) { try Double(json: node("1e400")) }
    }
}
