import Foundation
import Testing

@testable import Shared

@Suite("Codec")
struct CodecTests {
    static let envelope = JobEnvelope(
        jobID: 42, attempt: 2, maxAttempts: 3,
        bot: BotDefinition(name: "invoice-bot", argv: ["/usr/bin/env", "python3", "run.py"], timeoutSeconds: 60),
        group: "finance", priority: .high, environment: "staging", inputs: ["INVOICE": "A-17; rm -rf /"],
        account: "robot1", timeoutSeconds: 60, submittedAt: Date(timeIntervalSince1970: 1_700_000_000.125))

    @Test("a job envelope survives encoding and decoding unchanged")
    func envelopeRoundTrip() throws {
        let decoded = try JSONCodec.decode(JobEnvelope.self, from: try JSONCodec.encode(Self.envelope))
        #expect(decoded == Self.envelope)
        #expect(decoded.routingKey == "finance.high")
        #expect(decoded.messageID == "job-42-2")
    }

    @Test("times are ISO-8601 in UTC with milliseconds")
    func timestamps() throws {
        let text = Timestamp.format(Date(timeIntervalSince1970: 1_700_000_000.123))
        #expect(text == "2023-11-14T22:13:20.123Z")
        let parsed = try #require(Timestamp.parse(text))
        #expect(abs(parsed.timeIntervalSince1970 - 1_700_000_000.123) < 0.000_5)
        #expect(Timestamp.parse("2023-11-14T22:13:20Z") == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_868_799.999)) == "2000-02-29T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -62_135_596_800)) == "0001-01-01T00:00:00.000Z")
    }

    @Test("garbage is refused with a reason, not a crash")
    func garbage() {
        #expect(throws: CodecError.self) { try JSONCodec.decode(JobEnvelope.self, from: Data("\u{1}\u{2}garbage".utf8)) }
        do {
            _ = try JSONCodec.decode(JobEnvelope.self, from: Data(#"{"jobID": 1}"#.utf8))
            Issue.record("decoded an incomplete envelope")
        } catch {
            #expect(error.description.contains("missing field"))
        }
    }

    @Test("a wrong type names the field")
    func wrongType() {
        do {
            _ = try JSONCodec.decode(SubmitJobRequest.self, from: Data(#"{"bot": 3, "group": "g"}"#.utf8))
            Issue.record("decoded a number as a bot name")
        } catch {
            #expect(error.description.contains("'bot'"))
        }
    }

    @Test("a bot stored before bots had marks reads as having none")
    func botWithoutMarks() throws {
        let stored = #"{"name": "b", "version": "1", "argv": ["/bin/true"], "needsUI": false, "timeoutSeconds": 60, "retry": {"maxAttempts": 3, "backoff": {"kind": "fixed", "milliseconds": 0}}}"#
        #expect(try JSONCodec.decode(BotDefinition.self, from: Data(stored.utf8)).marks == [])
    }
}
