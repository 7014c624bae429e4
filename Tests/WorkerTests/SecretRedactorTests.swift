import Foundation
import Testing

@testable import Worker

@Suite("Secret redactor")
struct SecretRedactorTests {
    @Test("every occurrence of every secret is blanked, a longer secret whole before a shorter one inside it")
    func text() {
        let redactor = SecretRedactor(secrets: ["hunter2", "hunter2-admin", "ab"])
        #expect(redactor.redact("login hunter2; again hunter2-admin, ab stays")
            == "login [redacted]; again [redacted], ab stays")
        #expect(SecretRedactor(secrets: []).redact("hunter2") == "hunter2")
    }

    @Test("a log file is rewritten without its secrets, also where one straddles two chunks of the rewrite")
    func file() throws {
        let secret = "s3cret-" + String(repeating: "x", count: 40)
        // The secret sits across the 1 MiB boundary at which the file is read.
        let before = String(repeating: "a", count: (1 << 20) - 10)
        let text = before + secret + "\n" + "end " + secret + "\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("redact-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try SecretRedactor(secrets: [secret]).redact(fileAt: path)
        let redacted = try String(contentsOfFile: path, encoding: .utf8)
        #expect(redacted == before + "[redacted]\nend [redacted]\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".redacted"))
    }
}
