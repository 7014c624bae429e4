import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

@Suite("Rows read by position")
struct ColumnValuesTests {
    static let bot = BotDefinition(name: "clerk", argv: ["/bin/true"], needsUI: true)

    /// The job's row read by name, through GRDB's `Row` of `SELECT *`.
    func readByName(_ jobID: Int64, in store: BotyardStore) async throws -> JobRecord? {
        try await store.database.read { db in
            try JobRecord.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID])
        }
    }

    /// The job's row read by position, as every report reads it.
    func readByPosition(_ jobID: Int64, in store: BotyardStore) async throws -> JobRecord? {
        try await store.database.read { db in try JobRecord.fetch(id: jobID, in: db) }
    }

    @Test("a job read by position is the job read by name, with every column set and with the defaults")
    func sameJobEitherWay() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let plain = try await store.submit(SubmitJobRequest(bot: "clerk", group: "g1"), bot: Self.bot)
            let full = try await store.submit(
                SubmitJobRequest(bot: "clerk", group: "g2", priority: .high, environment: "staging",
                                 inputs: ["QUOTE": #"she said "no""#, "NAME": "名前"], timeoutSeconds: 5,
                                 retry: .fixed(maxAttempts: 4, waitMilliseconds: 10)),
                bot: Self.bot)
            let policy = String(decoding: try JSONCodec.encode(RobotQueuePolicy(waitSeconds: 3, maxAttempts: 2)),
                                as: UTF8.self)
            // A flow run and a parent that need not exist: the row's reading is what is tested.
            try await store.database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
                try db.execute(sql: """
                    UPDATE jobs SET account = 'robot1', targetHost = 'pc-1', robotQueuePolicy = ?, flowRun = 7,
                        flowStep = 'n2', variables = '{"TOTAL":"12"}', triggerQueue = 'invoices', parentJob = ?,
                        state = 'failed', attempts = 2, dispatchedAttempt = 2, runID = 'r-2', exitCode = -3,
                        outputs = '{"OK":"no"}', reason = 'exit 3', workerID = 'w-1', host = 'pc-7', ranAs = 'robot9',
                        startedAt = '2026-12-06 10:00:00.125', finishedAt = '2026-12-06 10:00:01.999',
                        dispatchHost = 'pc-8', robotQueueTries = 3, failureKind = 'business',
                        launchMethod = 'schedule', initiator = 'nightly'
                    WHERE id = ?
                    """, arguments: [policy, plain.id, full.id])
            }
            for id in [plain.id, full.id] {
                let byName = try #require(try await readByName(id, in: store))
                let byPosition = try #require(try await readByPosition(id, in: store))
                #expect(byPosition.id == id)
                #expect(try byPosition.databaseValues() == byName.databaseValues())
                #expect(byPosition.startedAt == byName.startedAt && byPosition.submittedAt == byName.submittedAt)
            }
            // Each column where it belongs: the two reads share the record's reading of its columns.
            let read = try #require(try await readByPosition(full.id, in: store))
            #expect(read.bot == "clerk" && read.botSnapshot == Self.bot && read.group == "g2" && read.priority == .high)
            #expect(read.environment == "staging" && read.inputs == ["QUOTE": #"she said "no""#, "NAME": "名前"])
            #expect(read.account == "robot1" && read.retryPolicy == .fixed(maxAttempts: 4, waitMilliseconds: 10))
            #expect(read.timeoutSeconds == 5 && read.launchMethod == .schedule && read.initiator == "nightly"
                    && read.targetHost == "pc-1")
            #expect(read.robotQueuePolicy == RobotQueuePolicy(waitSeconds: 3, maxAttempts: 2) && read.flowRun == 7)
            #expect(read.flowStep == "n2" && read.variables == ["TOTAL": "12"] && read.triggerQueue == "invoices")
            #expect(read.parentJob == plain.id && read.state == .failed && read.attempts == 2)
            #expect(read.dispatchedAttempt == 2 && read.runID == "r-2" && read.exitCode == -3)
            #expect(read.outputs == ["OK": "no"] && read.reason == "exit 3" && read.workerID == "w-1")
            #expect(read.host == "pc-7" && read.ranAs == "robot9" && read.dispatchHost == "pc-8")
            #expect(read.robotQueueTries == 3 && read.failureKind == .business && read.apiToken?.count == 44)
            #expect(read.startedAt.map(Timestamp.format) == "2026-12-06T10:00:00.125Z")
            #expect(read.finishedAt.map(Timestamp.format) == "2026-12-06T10:00:01.999Z")
            #expect(read.submittedAt <= read.updatedAt && abs(read.submittedAt.timeIntervalSinceNow) < 60)
            #expect(try await readByPosition(full.id + 100, in: store) == nil)
        }
    }

    @Test("a job's column holding a value of the wrong kind is refused, naming the column")
    func wrongKind() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            for (column, value) in [("attempts", "many"), ("submittedAt", "yesterday"), ("priority", "urgent")] {
                let job = try await store.submit(SubmitJobRequest(bot: "clerk", group: "g1"), bot: Self.bot)
                try await store.database.write { db in
                    try db.execute(sql: "UPDATE jobs SET \(column) = ? WHERE id = ?", arguments: [value, job.id])
                }
                let error = await #expect(throws: StoreError.self) { try await readByPosition(job.id, in: store) }
                #expect(error.map { "\($0)".contains(column) } == true, "\(String(describing: error))")
            }
        }
    }

    @Test("a NULL where a value is needed is refused naming the column, by position and by name")
    func nullRefused() throws {
        let database = try DatabaseQueue()
        try database.read { db in
            let statement = try db.makeStatement(sql: "SELECT 1, NULL, ?")
            let read = try statement.fetchFirst(binding: ["x".databaseValue]) { columns -> (Int, String?, String) in
                (try columns.next("one"), try columns.nextOptional("none"), try columns.next("bound"))
            }
            #expect(read?.0 == 1 && read?.1 == nil && read?.2 == "x")
            let error = #expect(throws: StoreError.self) {
                try statement.fetchFirst(binding: ["x".databaseValue]) { columns -> String in
                    _ = try columns.next("one") as Int
                    return try columns.next("none")
                }
            }
            #expect(error?.operation == "read none")
            #expect(throws: DatabaseError.self) { try statement.fetchFirst(binding: []) { _ in 0 } }
            let none = try db.makeStatement(sql: "SELECT 1 WHERE 0").fetchFirst(binding: []) { _ in 0 }
            #expect(none == nil)
        }
        var byName = RowColumns(["bot": nil, "group": "g1"], columns: ["group", "bot"])
        #expect(try byName.next("group") == "g1")
        #expect(throws: StoreError.self) { try byName.next("bot") as String }
    }
}
