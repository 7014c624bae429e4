import Foundation
import Shared

@testable import Dispatcher

/// A fresh temporary folder, removed when the test ends.
func withTemporaryFolder<Value>(_ body: (URL) async throws -> Value) async throws -> Value {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}

/// A store in a fresh temporary folder, removed when the test ends; it seals credentials with
/// `secretsKey` (a new one unless told).
func withTemporaryStore<Value>(secretsKey: SecretKey? = .generate(), deferredWritesWait: Duration = .milliseconds(20),
                               _ body: (BotyardStore, String) async throws -> Value) async throws -> Value {
    try await withTemporaryFolder { folder in
        let path = folder.appendingPathComponent("botyard.sqlite").path
        // `normal`: commits survive a crash of the process; the suite's stores need no disk syncs.
        return try await body(try BotyardStore(path: path, durability: .normal, secretsKey: secretsKey,
                                               deferredWritesWait: deferredWritesWait), path)
    }
}

extension BotyardStore {
    /// A new API token of `role` in this store (its secret), as `botyard-dispatcher create-token` makes one.
    func testToken(_ role: Role = .admin) throws -> String {
        try createAPIToken(NewAPIToken(name: "test \(role.rawValue) \(UUID().uuidString.prefix(8))", role: role)).secret
    }
}
