/// A failure of the dispatcher's SQLite store (disk full, locked, corrupt...).
///
/// Its description names the operation and SQLite's message, never the statement's arguments.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var message: String

    public var description: String { "store error during \(operation): \(message)" }
}
