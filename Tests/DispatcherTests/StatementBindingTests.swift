import Foundation
import GRDB
import Synchronization
import Testing

@testable import Dispatcher

@Suite("Statements bound without GRDB's arguments")
struct StatementBindingTests {
    static let insertSQL = "INSERT INTO kept (number, real, text, data, absent) VALUES (?, ?, ?, ?, ?)"

    /// A store file with two tables of the same shape: what GRDB writes goes in one, what is bound here in
    /// the other.
    static func scratch(in folder: URL) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: folder.appendingPathComponent("binding.sqlite").path)
        try queue.write { db in
            for table in ["kept", "twin"] {
                try db.execute(sql: """
                    CREATE TABLE \(table) (id INTEGER PRIMARY KEY, number INTEGER, real REAL, text TEXT UNIQUE,
                                           data BLOB, absent TEXT)
                    """)
            }
        }
        return queue
    }

    static func rows(of table: String, in queue: DatabaseQueue) throws -> [Row] {
        try queue.read { try Row.fetchAll($0, sql: "SELECT number, real, text, data, absent FROM \(table) ORDER BY id") }
    }

    static let examples: [[DatabaseValue]] = [
        [Int64.max.databaseValue, 1.5.databaseValue, "pending".databaseValue, Data([0, 1, 2]).databaseValue, .null],
        [(-7).databaseValue, (-0.25).databaseValue, "ünïcödé, \"quoted\" and 'single'".databaseValue,
         Data().databaseValue, .null],
        [0.databaseValue, Double.greatestFiniteMagnitude.databaseValue, String(repeating: "long ", count: 2_000)
            .databaseValue, Data(repeating: 0xff, count: 10_000).databaseValue, "not null after all".databaseValue],
    ]

    @Test("values of every kind are bound in order and read back as GRDB's own arguments write them")
    func sameRowsAsGRDB() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            try queue.write { db in
                for values in Self.examples {
                    try db.cachedStatement(sql: Self.insertSQL).execute(binding: values)
                    try db.execute(sql: Self.insertSQL.replacingOccurrences(of: "kept", with: "twin"),
                                   arguments: StatementArguments(values))
                }
            }
            let bound = try Self.rows(of: "kept", in: queue)
            #expect(bound.count == Self.examples.count)
            #expect(bound == (try Self.rows(of: "twin", in: queue)))
            #expect(bound.map { Array($0.databaseValues) } == Self.examples)
        }
    }

    @Test("values given one by one bind as their database values, nil as NULL")
    func variadicValues() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            let missing: String? = nil
            try queue.write { db in
                try db.cachedStatement(sql: Self.insertSQL).execute(binding: 42, 0.5, "text", Data([9]), missing)
            }
            let row = try #require(try Self.rows(of: "kept", in: queue).first)
            #expect(Array(row.databaseValues) == [42.databaseValue, 0.5.databaseValue, "text".databaseValue,
                                                  Data([9]).databaseValue, .null])
        }
    }

    @Test("too few or too many values are refused with the statement's SQL, and nothing is written",
          arguments: [4, 6])
    func wrongCountRefused(count: Int) async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            let values = Array(repeating: 1.databaseValue, count: count)
            try queue.write { db in
                let statement = try db.cachedStatement(sql: Self.insertSQL)
                #expect {
                    try statement.execute(binding: values)
                } throws: { error in
                    let error = error as? DatabaseError
                    return error?.resultCode == .SQLITE_MISUSE && error?.sql == Self.insertSQL
                        && error?.message == "\(count) values for 5 statement arguments"
                }
            }
            #expect(try Self.rows(of: "kept", in: queue).isEmpty)
        }
    }

    /// Counts the rows inserted into `kept` in each committed transaction.
    final class InsertCounter: TransactionObserver, Sendable {
        private let counts = Mutex((pending: 0, committed: [Int]()))

        var committed: [Int] { counts.withLock { $0.committed } }

        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
            if case .insert(let table) = eventKind { return table == "kept" }
            return false
        }

        func databaseDidChange(with event: DatabaseEvent) { counts.withLock { $0.pending += 1 } }

        func databaseDidCommit(_ db: Database) {
            counts.withLock { counts in
                counts.committed.append(counts.pending)
                counts.pending = 0
            }
        }

        func databaseDidRollback(_ db: Database) { counts.withLock { $0.pending = 0 } }
    }

    @Test("a transaction observer is told of each row a bound statement inserts")
    func observersSeeBoundRows() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            let counter = InsertCounter()
            queue.add(transactionObserver: counter, extent: .databaseLifetime)
            try queue.write { db in
                for values in Self.examples { try db.cachedStatement(sql: Self.insertSQL).execute(binding: values) }
            }
            try queue.write { db in try db.cachedStatement(sql: Self.insertSQL).execute(binding: 1, 2.0, "x", nil, nil) }
            #expect(counter.committed == [3, 1])
        }
    }

    @Test("one cached statement runs bound here and with GRDB's arguments in turn, each with its own values")
    func alternatesWithGRDB() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            try queue.write { db in
                for (index, values) in Self.examples.enumerated() {
                    let statement = try db.cachedStatement(sql: Self.insertSQL)
                    if index.isMultiple(of: 2) {
                        try statement.execute(binding: values)
                    } else {
                        try statement.execute(arguments: StatementArguments(values))
                    }
                }
                // A one-value statement bound here removes the one row it names.
                try db.cachedStatement(sql: "DELETE FROM kept WHERE number = ?").execute(binding: 0)
            }
            #expect(try Self.rows(of: "kept", in: queue).map { Array($0.databaseValues) } == Array(Self.examples.prefix(2)))
        }
    }

    @Test("a bound statement that breaks a constraint throws, and the next one runs")
    func failureThenNext() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            try queue.write { db in
                try db.cachedStatement(sql: Self.insertSQL).execute(binding: 1, 1.0, "same", nil, nil)
                #expect {
                    try db.cachedStatement(sql: Self.insertSQL).execute(binding: 2, 2.0, "same", nil, nil)
                } throws: { ($0 as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT }
                try db.cachedStatement(sql: Self.insertSQL).execute(binding: 3, 3.0, "other", nil, nil)
            }
            #expect(try Self.rows(of: "kept", in: queue).map { $0["number"] as Int64 } == [1, 3])
        }
    }
}
