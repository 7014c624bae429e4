import Foundation
import GRDB
import Testing
@testable import Dispatcher

@Suite("The group commit's transaction: BEGIN IMMEDIATE and COMMIT compiled once")
struct ImmediateTransactionTests {
    /// A database file with a table of rows whose parent is checked at COMMIT.
    static func scratch(in folder: URL) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: folder.appendingPathComponent("scratch.sqlite").path)
        try queue.write(createParentsAndRows)
        return queue
    }

    static func rowIDs(_ queue: DatabaseQueue) throws -> [Int64] { try queue.read(scratchRowIDs) }

    struct Refused: Error {}

    @Test("a transaction that returns commit keeps its rows, and the next one reuses the same statements")
    func commitKeepsRows() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            for id in 1...3 {
                try queue.writeWithoutTransaction { db in
                    try db.inImmediateTransaction {
                        #expect(db.isInsideTransaction)
                        try db.execute(sql: "INSERT INTO rows (id) VALUES (?)", arguments: [id])
                        return .commit
                    }
                    #expect(!db.isInsideTransaction)
                }
            }
            #expect(try Self.rowIDs(queue) == [1, 2, 3])
            // The connection's prepared statements (`sqlite_stmt`, in Debian's SQLite): one BEGIN and one
            // COMMIT, each run three times, not a statement compiled for each transaction.
            let runs = try queue.writeWithoutTransaction { db in
                try Int.fetchAll(db, sql: """
                    SELECT run FROM sqlite_stmt WHERE sql IN ('BEGIN IMMEDIATE TRANSACTION', 'COMMIT TRANSACTION')
                    ORDER BY sql
                    """)
            }
            #expect(runs == [3, 3])
        }
    }

    @Test("a transaction that throws keeps nothing, and its caller gets the error")
    func throwRollsBack() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            queue.writeWithoutTransaction { db in
                #expect(throws: Refused.self) {
                    try db.inImmediateTransaction {
                        try db.execute(sql: "INSERT INTO rows (id) VALUES (1)")
                        throw Refused()
                    }
                }
                #expect(!db.isInsideTransaction)
            }
            #expect(try Self.rowIDs(queue) == [])
        }
    }

    @Test("a transaction that returns rollback keeps nothing, without an error")
    func rollbackKeepsNothing() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            try queue.writeWithoutTransaction { db in
                try db.inImmediateTransaction {
                    try db.execute(sql: "INSERT INTO rows (id) VALUES (1)")
                    return .rollback
                }
                #expect(!db.isInsideTransaction)
            }
            #expect(try Self.rowIDs(queue) == [])
        }
    }

    @Test("a transaction that SQLite ended under the block throws SQLITE_ABORT rather than committing")
    func abortedTransactionThrows() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            try queue.writeWithoutTransaction { db in
                let error = #expect(throws: DatabaseError.self) {
                    try db.inImmediateTransaction {
                        try db.execute(sql: "INSERT INTO rows (id) VALUES (1)")
                        // What SQLite does by itself on a full disk or an I/O error.
                        try db.execute(sql: "ROLLBACK")
                        return .commit
                    }
                }
                #expect(error?.resultCode == .SQLITE_ABORT)
                // The connection goes on.
                try db.inImmediateTransaction {
                    try db.execute(sql: "INSERT INTO rows (id) VALUES (2)")
                    return .commit
                }
            }
            #expect(try Self.rowIDs(queue) == [2])
        }
    }

    @Test("a COMMIT that fails rolls everything back, and the next transaction commits with the same statement")
    func failedCommitLeavesTheConnectionUsable() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            try queue.writeWithoutTransaction { db in
                let error = #expect(throws: DatabaseError.self) {
                    try db.inImmediateTransaction {
                        try db.execute(sql: "INSERT INTO rows (id, parent) VALUES (1, 1)")
                        try db.execute(sql: "INSERT INTO rows (id, parent) VALUES (2, 99)")
                        return .commit
                    }
                }
                #expect(error?.resultCode == .SQLITE_CONSTRAINT)
                #expect(!db.isInsideTransaction)
                try db.inImmediateTransaction {
                    try db.execute(sql: "INSERT INTO rows (id, parent) VALUES (3, 1)")
                    return .commit
                }
            }
            #expect(try Self.rowIDs(queue) == [3])
        }
    }

    @Test("the transaction holds the write lock from its BEGIN, before it writes anything")
    func beginTakesTheWriteLock() async throws {
        try await withTemporaryFolder { folder in
            let queue = try Self.scratch(in: folder)
            var configuration = Configuration()
            configuration.busyMode = .immediateError
            let other = try DatabaseQueue(path: folder.appendingPathComponent("scratch.sqlite").path,
                                          configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.inImmediateTransaction {
                    let error = #expect(throws: DatabaseError.self) {
                        try other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
                    }
                    #expect(error?.resultCode == .SQLITE_BUSY)
                    return .commit
                }
            }
        }
    }
}
