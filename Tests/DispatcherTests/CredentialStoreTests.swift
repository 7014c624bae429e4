import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

@Suite("Credentials in the store")
struct CredentialStoreTests {
    static let password = "Planted-pw-\(UUID().uuidString.prefix(8))"
    static let credential = AccountCredential(username: "svc-robot", password: password)

    /// Every byte SQLite wrote for the store at `path`: the database file and its write-ahead log.
    static func storedBytes(_ path: String) -> String {
        ["", "-wal"].compactMap { FileManager.default.contents(atPath: path + $0) }
            .map { String(decoding: $0, as: UTF8.self) }.joined()
    }

    @Test("a stored password is sealed: neither the table nor the database's files hold it")
    func sealedAtRest() async throws {
        try await withTemporaryStore { store, path in
            try await store.saveCredential(Self.credential, host: "h1", account: "robot1")
            let row = try store.database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM credentials") }
            #expect(row?.columnNames.contains("password") == false)
            #expect(row.map { "\($0)" }?.contains(Self.password) == false)
            #expect(!Self.storedBytes(path).contains(Self.password))
            #expect(Self.storedBytes(path).contains("svc-robot"), "the check reads what the store wrote")
            #expect(try await store.credentials().map(\.username) == ["svc-robot"])
        }
    }

    @Test("a store opened with another key cannot open a stored password: the worker's request is refused with why")
    func anotherKey() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("botyard.sqlite").path
            let first = try await BotyardStore.open(path: path, durability: .normal, secretsKey: .generate())
            try await Self.storeEntitledRequest(in: first)
            let other = try await BotyardStore.open(path: path, durability: .normal, secretsKey: .generate())
            await #expect(throws: SecretKeyError.self) { try await other.credentialAnswer(to: Self.request) }
        }
    }

    @Test("without a secrets key no credential is stored, and a worker's request is refused saying so")
    func noKey() async throws {
        try await withTemporaryStore(secretsKey: nil) { store, _ throws in
            await #expect(throws: SecretsKeyMissing.self) {
                try await store.saveCredential(Self.credential, host: "h1", account: "robot1")
            }
            #expect(try await store.credentials().isEmpty)
            #expect(try await store.credentialAnswer(to: Self.request) == .refused(SecretsKeyMissing().description))
        }
    }

    static let request = CredentialRequest(requestID: "r1", jobID: 1, group: "g1", host: "h1", account: "robot1",
                                           workerID: "w-h1")

    /// A UI job of g1 (id 1) and a worker of g1 on h1; the credential of robot1 on h1 stored.
    static func storeEntitledRequest(in store: BotyardStore, credential: Bool = true) async throws {
        try await store.saveBot(RobotQueueStoreTests.bot)
        _ = try await store.submit(SubmitJobRequest(bot: "ui-bot", group: "g1"), bot: RobotQueueStoreTests.bot)
        _ = try await store.apply([], heartbeats: [RobotQueueStoreTests.heartbeat()], random: { 0 })
        if credential { try await store.saveCredential(Self.credential, host: "h1", account: "robot1") }
    }

    @Test("an entitled request gets the stored credential, or none when none is stored; others are refused")
    func answers() async throws {
        try await withTemporaryStore { store, _ in
            try await Self.storeEntitledRequest(in: store, credential: false)
            #expect(try await store.credentialAnswer(to: Self.request) == CredentialAnswer.none)
            try await store.saveCredential(Self.credential, host: "h1", account: "robot1")
            #expect(try await store.credentialAnswer(to: Self.request) == .credential(Self.credential))
            var otherHost = Self.request
            otherHost.host = "h9"
            #expect(try await store.credentialAnswer(to: otherHost) == .hostNotYetKnown)
            var otherGroup = Self.request
            otherGroup.group = "g2"
            #expect(try await store.credentialAnswer(to: otherGroup) == .refused("job 1 belongs to group g1, not g2"))
        }
    }

    @Test("credentials an earlier version stored in plain text are sealed when the store opens with its key")
    func legacyPlainText() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("botyard.sqlite").path
            let old = try DatabaseQueue(path: path)
            try StoreMigrations.migrator().migrate(old, upTo: "v14-job-state-counts")
            try await old.write { db in
                try db.execute(sql: """
                    INSERT INTO credentials (host, account, username, password, updatedAt)
                    VALUES ('h1', 'robot1', 'svc-robot', ?, '2026-01-01 00:00:00.000')
                    """, arguments: [Self.password])
            }
            try old.close()
            do {
                _ = try await BotyardStore.open(path: path, durability: .normal)
                Issue.record("plain-text credentials were left as they are")
            } catch {
                #expect("\(error)".contains("1 credentials are stored in plain text by an earlier version"))
            }
            let key = SecretKey.generate()
            let store = try await BotyardStore.open(path: path, durability: .normal, secretsKey: key)
            try await Self.storeEntitledRequest(in: store, credential: false)
            #expect(try await store.credentialAnswer(to: Self.request) == .credential(Self.credential))
            try await store.database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            #expect(!Self.storedBytes(path).contains(Self.password))
        }
    }
}
