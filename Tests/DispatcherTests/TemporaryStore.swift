import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

/// A fresh temporary folder, removed when the test ends.
func withTemporaryFolder<Value>(_ body: (URL) async throws -> Value) async throws -> Value {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}

/// Scratch tables for the writer's tests: `rows`, whose `parent` must name a row of `parents`
/// (only `1` exists) when the transaction commits — a write that breaks it fails the COMMIT.
func createParentsAndRows(in db: Database) throws {
    try db.execute(sql: """
        CREATE TABLE parents (id INTEGER PRIMARY KEY);
        CREATE TABLE rows (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);
        INSERT INTO parents (id) VALUES (1);
        """)
}

/// The ids in the scratch table `rows`, in order.
func scratchRowIDs(in db: Database) throws -> [Int64] {
    try Int64.fetchAll(db, sql: "SELECT id FROM rows ORDER BY id")
}

/// Polls `condition` every millisecond until it holds; fails the test after 60 s.
func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
    #expect(condition(), "the condition did not hold within 60 s")
}

/// A store in a fresh temporary folder, removed when the test ends; it seals credentials with
/// `secretsKey` (a new one unless told).
func withTemporaryStore<Value>(secretsKey: SecretKey? = .generate(), deferredWritesWait: Duration = .milliseconds(20),
                               _ body: (BotyardStore, String) async throws -> Value) async throws -> Value {
    try await withTemporaryFolder { folder in
        let path = folder.appendingPathComponent("botyard.sqlite").path
        // `normal`: commits survive a crash of the process; the suite's stores need no disk syncs.
        let store = try await BotyardStore.open(path: path, durability: .normal, secretsKey: secretsKey,
                                                deferredWritesWait: deferredWritesWait)
        return try await body(store, path)
    }
}

/// A store file at `path` that an earlier version left: migrated up to `migration` only.
func storeFile(at path: String, migratedUpTo migration: String) throws -> DatabasePool {
    let file = try DatabasePool(path: path)
    try StoreMigrations.migrator().migrate(file, upTo: migration)
    return file
}

extension BotyardStore {
    /// A new API token of `role` in this store (its secret), as `botyard-dispatcher create-token` makes one.
    func testToken(_ role: Role = .admin) async throws -> String {
        let name = "test \(role.rawValue) \(UUID().uuidString.prefix(8))"
        return try await createAPIToken(NewAPIToken(name: name, role: role)).secret
    }
}

extension BotyardStore {
    /// What the relay does with confirmed rows, waited for: deleted, their jobs `queued`.
    func markPublished(_ records: [OutboxRecord], at now: Date = Date()) async throws {
        let outcome = DeferredOutcome()
        markPublishedDeferred(records, at: now) { outcome.failure = $0 }
        // Told before this returns: the transaction that commits them answers the deferred writes first.
        await commitDeferredWrites()
        if let failure = outcome.failure { throw failure }
    }
}

/// What a deferred write was told.
final class DeferredOutcome: @unchecked Sendable {
    // @unchecked: set on the writer queue before `commitDeferredWrites()` returns, read after it.
    var failure: StoreError?
}
