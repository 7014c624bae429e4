import Foundation
import Logging
import Synchronization
import Testing

@testable import Shared

@Suite("JSON logs")
struct JSONLogHandlerTests {
    /// A logger whose records are kept as decoded JSON objects.
    static func capturing(level: Logger.Level = .info) -> (Logger, @Sendable () -> [[String: Any]]) {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "botyard.test") { label in
            JSONLogHandler(label: label) { line in lines.withLock { $0.append(line) } }
        }
        logger.logLevel = level
        return (logger, {
            lines.withLock { $0 }.map {
                #expect($0.hasSuffix("\n") && !$0.dropLast().contains("\n"), "one line per record")
                return (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
            }
        })
    }

    @Test("a record is one JSON object: time, level, label, message, source, and the metadata under its own keys")
    func fields() throws {
        var (logger, records) = Self.capturing()
        logger[metadataKey: "worker.id"] = "w1"
        logger.info("bot started", metadata: ["job.id": "42", "bot.name": "invoice \"reader\"\nline two",
                                              "accounts": .array(["robot1", "robot2"]),
                                              "load": .dictionary(["running": "1"])])
        let record = try #require(records().first)
        #expect(record["message"] as? String == "bot started")
        #expect(record["level"] as? String == "info")
        #expect(record["label"] as? String == "botyard.test")
        #expect(record["source"] as? String == "SharedTests")
        #expect(record["job.id"] as? String == "42" && record["worker.id"] as? String == "w1")
        #expect(record["bot.name"] as? String == "invoice \"reader\"\nline two")
        #expect(record["accounts"] as? [String] == ["robot1", "robot2"])
        #expect((record["load"] as? [String: String]) == ["running": "1"])
        let time = try #require(record["time"] as? String)
        #expect(try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(time).timeIntervalSinceNow > -60)
    }

    @Test("records below the logger's level are not written; metadata never replaces the record's own fields")
    func levelsAndReservedKeys() throws {
        let (logger, records) = Self.capturing(level: .notice)
        logger.info("quiet")
        logger.notice("loud", metadata: ["message": "spoofed", "level": "trace"])
        #expect(records().count == 1)
        #expect(records().first?["message"] as? String == "loud" && records().first?["level"] as? String == "notice")
    }

    @Test("--log-format takes text or json")
    func formats() {
        #expect(LogFormat(rawValue: "json") == .json && LogFormat(rawValue: "text") == .text)
        #expect(LogFormat(rawValue: "yaml") == nil)
    }
}
