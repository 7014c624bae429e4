import Foundation

/// Runs `body` with a new folder under the system's temporary one (its name starting with
/// `prefix`), removed when `body` returns or throws.
public func withScratchFolder<Value>(_ prefix: String, _ body: (URL) async throws -> Value) async throws -> Value {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}
