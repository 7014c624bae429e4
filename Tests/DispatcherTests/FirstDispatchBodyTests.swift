import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

@Suite("First dispatch body")
struct FirstDispatchBodyTests {
    static let bot = BotDefinition(name: "clerk", version: "7", argv: ["/bin/sh", "-c", #"echo "$X" \ done"#],
                                   workingDirectory: "/srv/bots/clerk", needsUI: true, timeoutSeconds: 90,
                                   retry: .fixed(maxAttempts: 3, waitMilliseconds: 250))

    /// The body the relay writes from the job's row, and the envelope its record makes.
    func bodyAndEnvelope(of jobID: Int64, in store: BotyardStore) async throws -> (Data, JobEnvelope) {
        try await store.database.read { db in
            let sql = "SELECT \(FirstDispatchBody.selection) FROM jobs WHERE id = ?"
            let row = try #require(try Row.fetchOne(db, sql: sql, arguments: [jobID]))
            let record = try #require(try JobRecord.fetch(id: jobID, in: db))
            return (try FirstDispatchBody.json(jobRow: row), record.envelope(attempt: 1))
        }
    }

    @Test("the body written from the job's row decodes to the envelope its record makes, whatever the row holds")
    func sameAsTheEnvelope() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let inputs = ["QUOTE": #"she said "no" \ twice"#, "LINES": "a\nb\tc\u{1}", "NAME": "名前 🤖 é/ü"]
            let plain = try await store.submit(SubmitJobRequest(bot: "clerk", group: "g1"), bot: Self.bot)
            let rich = try await store.submit(
                SubmitJobRequest(bot: "clerk", group: "g2", priority: .low, environment: "staging", inputs: inputs,
                                 timeoutSeconds: 5, retry: .fixed(maxAttempts: 9, waitMilliseconds: 1)),
                bot: Self.bot)
            // What other paths store: variables of a workflow, an account and its host, a date
            // stored in another shape (seconds only) by an older version.
            let variables = String(decoding: try JSONCodec.encode(["TOTAL": "12\"€"]), as: UTF8.self)
            try await store.database.write { db in
                try db.execute(sql: """
                    UPDATE jobs SET variables = ?, account = 'robot1', dispatchHost = 'pc-7',
                                    submittedAt = '2026-12-03 16:38:14'
                    WHERE id = ?
                    """, arguments: [variables, rich.id])
            }
            for job in [plain, rich] {
                let (body, envelope) = try await bodyAndEnvelope(of: job.id, in: store)
                // Through JSON both: a date read from the row and one read from JSON may differ in
                // their last binary digits.
                let encoded = try JSONCodec.encode(envelope)
                let expected = try JSONCodec.decode(JobEnvelope.self, from: encoded)
                #expect(try JSONCodec.decode(JobEnvelope.self, from: body) == expected)
            }
            let (body, _) = try await bodyAndEnvelope(of: rich.id, in: store)
            let decoded = try JSONCodec.decode(JobEnvelope.self, from: body)
            #expect(decoded.inputs == inputs && decoded.variables == ["TOTAL": "12\"€"] && decoded.maxAttempts == 9)
            #expect(decoded.account == "robot1" && decoded.host == "pc-7" && decoded.bot == Self.bot)
        }
    }

    @Test("a row naming an unknown priority is refused, not published")
    func unknownPriority() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let job = try await store.submit(SubmitJobRequest(bot: "clerk", group: "g1"), bot: Self.bot)
            try await store.database.write { db in
                try db.execute(sql: "UPDATE jobs SET priority = 'urgent' WHERE id = ?", arguments: [job.id])
            }
            await #expect(throws: StoreError.self) { try await bodyAndEnvelope(of: job.id, in: store) }
        }
    }
}
