import ArgumentParser
import Dispatcher
import Foundation
import GRDB
import Shared

/// `botyard-bench statements`: what binding a statement's values costs, GRDB's way
/// (`execute(arguments:)`) against the store's (`execute(binding:)`), for rows shaped as a new job's
/// (36 values) and as a history row (6), inserted in one transaction of a scratch database.
struct StatementBinding: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statements",
        abstract: "Times inserts bound by GRDB's arguments and by the store's own binding.")

    @Option(help: "Inserts timed for each way and shape.") var inserts = 100_000
    @Option(help: "Rounds of the measurement; the table shows the fastest.") var rounds = 3
    @Option(help: "Folder for the database.")
    var folder: String = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-bench-statements").path

    func validate() throws {
        guard inserts > 0, rounds > 0 else { throw ValidationError("inserts and rounds must be positive") }
    }

    /// A row's shape: its table and the values each insert binds.
    struct Shape: Sendable {
        var name: String
        var values: [DatabaseValue]

        var table: String { "t\(values.count)" }
        var createSQL: String {
            "CREATE TABLE \(table) (id INTEGER PRIMARY KEY, "
                + values.indices.map { "c\($0)" }.joined(separator: ", ") + ")"
        }
        var insertSQL: String {
            "INSERT INTO \(table) (" + values.indices.map { "c\($0)" }.joined(separator: ", ") + ") VALUES ("
                + Array(repeating: "?", count: values.count).joined(separator: ", ") + ")"
        }
    }

    /// Text, integers and NULLs in turn, as a job's row has them.
    static func mixed(_ count: Int) -> [DatabaseValue] {
        (0..<count).map { index in
            switch index % 3 {
            case 0: Int64(index).databaseValue
            case 1: "a value of some forty characters, no. \(index)".databaseValue
            default: .null
            }
        }
    }

    static let shapes = [
        Shape(name: "36 values (a new job's row)", values: mixed(36)),
        Shape(name: "6 values (a history row)", values: mixed(6)),
    ]

    func run() async throws {
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: folder + "/statements.sqlite")
        try await queue.write { db in
            for shape in Self.shapes { try db.execute(sql: shape.createSQL) }
        }
        var rows: [(String, String)] = []
        for shape in Self.shapes {
            var grdb: [Duration] = []
            var bound: [Duration] = []
            for _ in 0..<rounds {
                // GRDB's arguments made of the values, as an array literal of them made them. (A
                // sequence, not an array: an array picks the failable `[Any]` form, which casts
                // each value at run time, as the store never did.)
                grdb.append(try await time(shape, in: queue) { statement in
                    try statement.execute(arguments: StatementArguments(shape.values.lazy))
                })
                bound.append(try await time(shape, in: queue) { statement in
                    try statement.execute(binding: shape.values)
                })
            }
            let (before, after) = (grdb.min()!, bound.min()!)
            rows.append(("an insert of \(shape.name), \(inserts) in one transaction (fastest of \(rounds))",
                         String(format: "%.2f µs GRDB's way, %.2f µs bound by the store (%.1f ×)",
                                before.seconds * 1e6, after.seconds * 1e6, before / after)))
        }
        printTable(rows)
    }

    /// The time an insert of `shape` takes when `execute` runs it, `inserts` times in one transaction
    /// (rolled back after, so that every round starts from the same table).
    private func time(_ shape: Shape, in queue: DatabaseQueue,
                      _ execute: @escaping @Sendable (Statement) throws -> Void) async throws -> Duration {
        let count = inserts
        return try await queue.writeWithoutTransaction { db in
            var elapsed = Duration.zero
            try db.inTransaction {
                let statement = try db.cachedStatement(sql: shape.insertSQL)
                let start = ContinuousClock.now
                for _ in 0..<count { try execute(statement) }
                elapsed = (ContinuousClock.now - start) / count
                return .rollback
            }
            return elapsed
        }
    }
}
