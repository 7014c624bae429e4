import Foundation
import Testing

@testable import Shared

@Suite("JSON object writer")
struct JSONObjectWriterTests {
    @Test("fields come out in the order written, JSON text as it is, absent values left out")
    func fields() {
        var writer = JSONObjectWriter()
        writer.field("id", Int64(-42))
        writer.field("name", "a/b")
        writer.field("bot", json: #"{"argv":["/bin/true"]}"#)
        writer.field("account", ifPresent: nil)
        writer.field("variables", jsonIfPresent: nil)
        writer.field("slots", 8)
        #expect(String(decoding: writer.finish(), as: UTF8.self)
            == #"{"id":-42,"name":"a/b","bot":{"argv":["/bin/true"]},"slots":8}"#)
        #expect(String(decoding: JSONObjectWriter().finish(), as: UTF8.self) == "{}")
    }

    @Test("every string, control characters, quotes and backslashes included, reads back as written")
    func escaping() throws {
        let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        let texts = [controls, #"say "hi" \ back\slash"#, "\u{7F} é 名前 🤖 \u{2028}", "", "tab\there\r\n"]
        for text in texts {
            var writer = JSONObjectWriter()
            writer.field("text", text)
            let json = writer.finish()
            #expect(try JSONDecoder().decode([String: String].self, from: json) == ["text": text])
            // A lenient reader takes a raw tab; RFC 8259 does not.
            #expect(!json.contains { $0 < 0x20 })
        }
    }
}
