import Dispatch
import Foundation
import GRDB
import Synchronization
import Testing
@testable import Dispatcher

@Suite("Group commit: concurrent writes share one transaction")
struct GroupCommitWriterTests {
    /// A scratch database with a table of rows and one row that others may reference, and a count of commits.
    struct Scratch {
        let pool: DatabasePool
        let writer: GroupCommitWriter
        let commits = CommitCounter()

        init(folder: URL, maximumBatch: Int = 256, deferredWait: Duration = .milliseconds(20),
             promptWeight: Int = 16) throws {
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            pool = try DatabasePool(path: folder.appendingPathComponent("scratch.sqlite").path,
                                    configuration: configuration)
            try pool.write(createParentsAndRows)
            pool.add(transactionObserver: commits)
            writer = GroupCommitWriter(database: pool, maximumBatch: maximumBatch, deferredWait: deferredWait,
                                       promptWeight: promptWeight)
        }

        func rowIDs() throws -> [Int64] { try pool.read(scratchRowIDs) }

        /// Runs `body` while the writer queue is held, once `count` writes wait behind it.
        func withWriterHeld(until count: Int, _ body: @escaping @Sendable () async throws -> Void) async throws {
            let gate = DispatchSemaphore(value: 0)
            pool.asyncWriteWithoutTransaction { _ in gate.wait() }
            let done = Task { try await body() }
            // Long: on a loaded machine (CI's, with other suites in parallel) the writes reached the writer
            // over more than 10 s once, and went in three transactions.
            try await waitUntil { writer.waitingCount >= count }
            gate.signal()
            try await done.value
        }
    }

    final class CommitCounter: TransactionObserver, @unchecked Sendable {
        // @unchecked: touched only on the writer queue, and read after the writes it counts were answered.
        var count = 0
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { count += 1 }
        func databaseDidRollback(_ db: Database) {}
    }

    @Test("100 writes waiting at the same moment commit in one transaction, and each caller gets its own answer")
    func concurrentWritesShareACommit() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder)
            let before = scratch.commits.count
            try await scratch.withWriterHeld(until: 100) {
                let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                    for id in 1...100 {
                        group.addTask {
                            try await scratch.writer.write { db in
                                try db.execute(sql: "INSERT INTO rows (id) VALUES (?)", arguments: [id])
                                return db.lastInsertedRowID
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(ids.sorted() == Array(1...100))
            }
            #expect(scratch.commits.count - before == 1)
            #expect(try scratch.rowIDs() == Array(1...100))
        }
    }

    @Test("a write that throws rolls back its own changes only; the others of its transaction commit")
    func failingWriteRollsBackAlone() async throws {
        struct Refused: Error {}
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder)
            try await scratch.withWriterHeld(until: 3) {
                let first = Task { try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (1)") } }
                let refused = Task {
                    try await scratch.writer.write { db in
                        try db.execute(sql: "INSERT INTO rows (id) VALUES (2)")
                        throw Refused()
                    }
                }
                let third = Task { try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (3)") } }
                try await first.value
                await #expect(throws: Refused.self) { try await refused.value }
                try await third.value
            }
            #expect(try scratch.rowIDs() == [1, 3])
        }
    }

    @Test("the writes of a shared transaction run once each when none throws")
    func succeedingWritesRunOnce() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder)
            let runs = Recorded()
            try await scratch.withWriterHeld(until: 10) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in 1...10 {
                        group.addTask {
                            try await scratch.writer.write { db in
                                runs.append(id)
                                try db.execute(sql: "INSERT INTO rows (id) VALUES (?)", arguments: [id])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(runs.values.sorted() == Array(1...10))
        }
    }

    @Test("when a write of a shared transaction throws, the transaction runs again: each other write is stored once")
    func othersRunAgainAfterAWriteThrows() async throws {
        struct Refused: Error {}
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder)
            let runs = Recorded()
            try await scratch.withWriterHeld(until: 3) {
                let writes = [1, 2, 3].map { id in
                    Task {
                        try await scratch.writer.write { db in
                            runs.append(id)
                            try db.execute(sql: "INSERT INTO rows (id) VALUES (?)", arguments: [id])
                            if id == 2 { throw Refused() }
                        }
                    }
                }
                try await writes[0].value
                await #expect(throws: Refused.self) { try await writes[1].value }
                try await writes[2].value
            }
            // The one that threw ran in both transactions; those before it in the first one ran twice.
            #expect(runs.values.filter { $0 == 2 }.count == 2 && Set(runs.values) == [1, 2, 3], "\(runs.values)")
            #expect(try scratch.rowIDs() == [1, 3])
        }
    }

    @Test("a write alone in its transaction that throws keeps none of its changes, and its caller gets its error")
    func loneFailingWriteRollsBack() async throws {
        struct Refused: Error {}
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder)
            await #expect(throws: Refused.self) {
                try await scratch.writer.write { db in
                    try db.execute(sql: "INSERT INTO rows (id) VALUES (1)")
                    throw Refused()
                }
            }
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (2)") }
            #expect(try scratch.rowIDs() == [2])
        }
    }

    @Test("a commit that fails answers every write of its transaction with the error, and keeps none of them")
    func failedCommitFailsEveryWrite() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder)
            try await scratch.withWriterHeld(until: 2) {
                // The deferred foreign key is checked at COMMIT: the second write breaks the whole transaction.
                let good = Task {
                    try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id, parent) VALUES (1, 1)") }
                }
                let orphan = Task {
                    try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id, parent) VALUES (2, 99)") }
                }
                await #expect(throws: DatabaseError.self) { try await good.value }
                await #expect(throws: DatabaseError.self) { try await orphan.value }
            }
            #expect(try scratch.rowIDs() == [])
            // The writer goes on with the next transaction.
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (7)") }
            #expect(try scratch.rowIDs() == [7])
        }
    }

    // MARK: Deferred writes

    /// Numbers noted from the writer queue.
    final class Recorded: Sendable {
        private let noted = Mutex<[Int]>([])
        func append(_ value: Int) { noted.withLock { $0.append(value) } }
        var values: [Int] { noted.withLock { $0 } }
    }

    /// Asks for a deferred insert of row `id`; `done` gets its fate.
    static func insertDeferred(_ id: Int, into scratch: Scratch, weight: Int = 1,
                               done: @escaping @Sendable ((any Error)?) -> Void = { _ in }) {
        scratch.writer.writeDeferred({ db in try db.execute(sql: "INSERT INTO rows (id) VALUES (?)", arguments: [id]) },
                                     weight: weight, completion: done)
    }

    /// ``insertDeferred(_:into:weight:done:)`` that returns once its transaction committed.
    static func insertDeferredCommitted(_ id: Int, into scratch: Scratch, weight: Int) async -> String? {
        await withCheckedContinuation { continuation in
            insertDeferred(id, into: scratch, weight: weight) { continuation.resume(returning: $0.map { "\($0)" }) }
        }
    }

    @Test("deferred writes that weigh the prompt weight together commit at once; a light one then waits again")
    func heavyDeferredWritesCommitAtOnce() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60), promptWeight: 10)
            let before = scratch.commits.count
            Self.insertDeferred(1, into: scratch, weight: 6)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try scratch.rowIDs() == [], "lighter than the prompt weight, it waits for company")
            let asked = ContinuousClock.now
            #expect(await Self.insertDeferredCommitted(2, into: scratch, weight: 4) == nil)
            #expect(ContinuousClock.now - asked < .seconds(30))
            #expect(try scratch.rowIDs() == [1, 2])
            #expect(scratch.commits.count - before == 1)
            // Their weight went with them: the next light write waits again.
            Self.insertDeferred(3, into: scratch, weight: 1)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try scratch.rowIDs() == [1, 2])
        }
    }

    @Test("a heavy deferred write asked for while a transaction runs commits in the next, begun as that one ends")
    func heavyDeferredWriteFollowsTheRunningTransaction() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60), promptWeight: 10)
            let gate = DispatchSemaphore(value: 0)
            let running = Recorded()
            let write = Task {
                try await scratch.writer.write { db in
                    running.append(1)
                    gate.wait()
                    try db.execute(sql: "INSERT INTO rows (id) VALUES (1)")
                }
            }
            try await waitUntil { running.values == [1] }
            let asked = ContinuousClock.now
            let committed = Task { await Self.insertDeferredCommitted(2, into: scratch, weight: 10) }
            try await waitUntil { scratch.writer.deferredCount == 1 }
            gate.signal()
            try await write.value
            #expect(await committed.value == nil)
            #expect(ContinuousClock.now - asked < .seconds(30))
            #expect(try scratch.rowIDs() == [1, 2])
        }
    }

    @Test("a deferred write starts no transaction of its own: it rides in the next write's")
    func deferredWriteRidesAlong() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let before = scratch.commits.count
            Self.insertDeferred(1, into: scratch)
            Self.insertDeferred(2, into: scratch)
            #expect(try scratch.rowIDs() == [], "nothing committed yet")
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (3)") }
            #expect(try scratch.rowIDs() == [1, 2, 3])
            #expect(scratch.commits.count - before == 1)
        }
    }

    @Test("a deferred write that no other write joins commits on its own once its wait is over")
    func deferredWriteCommitsAfterItsWait() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .milliseconds(50))
            let asked = ContinuousClock.now
            let failure = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                Self.insertDeferred(1, into: scratch) { continuation.resume(returning: $0.map { "\($0)" }) }
            }
            #expect(failure == nil)
            #expect(ContinuousClock.now - asked >= .milliseconds(50))
            #expect(try scratch.rowIDs() == [1])
        }
    }

    @Test("a deferred write waits its own wait, though the wait of one asked for before it (committed since) ends sooner")
    func deferredWriteWaitsItsOwnWait() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .milliseconds(400))
            Self.insertDeferred(1, into: scratch)
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (2)") }
            try await Task.sleep(for: .milliseconds(200))
            let before = scratch.commits.count
            let asked = ContinuousClock.now
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Self.insertDeferred(3, into: scratch) { _ in continuation.resume() }
            }
            #expect(ContinuousClock.now - asked >= .milliseconds(390), "not at the end of the first write's wait")
            #expect(try scratch.rowIDs() == [1, 2, 3])
            #expect(scratch.commits.count - before == 1)
        }
    }

    @Test("commitDeferred returns once the deferred writes asked for before it are committed, without their wait")
    func commitDeferredDoesNotWait() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            for id in 1...300 { Self.insertDeferred(id, into: scratch) }
            let asked = ContinuousClock.now
            await scratch.writer.commitDeferred()
            #expect(ContinuousClock.now - asked < .seconds(30))
            #expect(try scratch.rowIDs() == Array(1...300), "more than one transaction's worth")
        }
    }

    @Test("commitDeferredIfAny commits a deferred write that waits; with none waiting it returns with no transaction")
    func commitDeferredIfAnyOnlyWhenNeeded() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            Self.insertDeferred(1, into: scratch)
            await scratch.writer.commitDeferredIfAny()
            #expect(try scratch.rowIDs() == [1])
            // With the writer held, a transaction could not begin: returning proves none was asked for.
            let gate = DispatchSemaphore(value: 0)
            scratch.pool.asyncWriteWithoutTransaction { _ in gate.wait() }
            let commits = scratch.commits.count
            let returned = Mutex(false)
            let call = Task {
                await scratch.writer.commitDeferredIfAny()
                returned.withLock { $0 = true }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while !returned.withLock({ $0 }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let returnedWhileHeld = returned.withLock { $0 }
            gate.signal()
            await call.value
            #expect(returnedWhileHeld)
            #expect(scratch.commits.count == commits)
        }
    }

    @Test("a deferred write that throws keeps none of its changes and is told why; the writes beside it commit")
    func failingDeferredWriteRollsBackAlone() async throws {
        struct Refused: Error {}
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let told = Mutex<(any Error)?>(nil)
            scratch.writer.writeDeferred({ db in
                try db.execute(sql: "INSERT INTO rows (id) VALUES (1)")
                throw Refused()
            }, completion: { failure in told.withLock { $0 = failure } })
            Self.insertDeferred(2, into: scratch)
            // Answered after the deferred writes of its transaction were told their fate.
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (3)") }
            #expect(told.withLock { $0 } is Refused)
            #expect(try scratch.rowIDs() == [2, 3])
        }
    }

    /// Asks for a deferred write of `body` whose value is taken later.
    static func deferredValue<Value: Sendable>(
        into scratch: Scratch, _ body: @escaping @Sendable (Database) throws -> Value
    ) -> PendingResult<Value> {
        let value = PendingResult<Value>()
        scratch.writer.writeDeferred(body, result: value.finish)
        return value
    }

    @Test("a deferred write whose caller takes its value gets it once the next write's transaction committed")
    func awaitedDeferredWriteRidesAlong() async throws {
        struct Refused: Error {}
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let before = scratch.commits.count
            let value = Self.deferredValue(into: scratch) { db -> Int in
                try db.execute(sql: "INSERT INTO rows (id) VALUES (1)")
                return 41
            }
            let refused = Self.deferredValue(into: scratch) { db -> Int in
                try db.execute(sql: "INSERT INTO rows (id) VALUES (2)")
                throw Refused()
            }
            try await waitUntil { scratch.writer.deferredCount == 2 }
            #expect(try scratch.rowIDs() == [], "nothing committed before a write starts a transaction")
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (3)") }
            #expect(try await value.value == 41)
            await #expect(throws: Refused.self) { try await refused.value }
            #expect(try scratch.rowIDs() == [1, 3])
            #expect(scratch.commits.count - before == 1)
        }
    }

    @Test("a deferred write whose caller takes its value commits on its own once its wait is over")
    func awaitedDeferredWriteCommitsAfterItsWait() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .milliseconds(50))
            let asked = ContinuousClock.now
            let value = try await Self.deferredValue(into: scratch) { db -> Int64 in
                try db.execute(sql: "INSERT INTO rows (id) VALUES (7)")
                return db.lastInsertedRowID
            }.value
            #expect(value == 7)
            #expect(ContinuousClock.now - asked >= .milliseconds(50))
            #expect(try scratch.rowIDs() == [7])
        }
    }

    @Test("deferred writes take at most half a transaction from writes that wait for their answers")
    func deferredWritesLeaveRoom() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, maximumBatch: 4, deferredWait: .seconds(60))
            for id in 1...10 { Self.insertDeferred(id, into: scratch) }
            let before = scratch.commits.count
            let commitsBeforeTheirs = Recorded()
            try await scratch.withWriterHeld(until: 2) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in 11...12 {
                        group.addTask {
                            try await scratch.writer.write { db in
                                // Read on the writer queue, inside the transaction that holds this write.
                                commitsBeforeTheirs.append(scratch.commits.count - before)
                                try db.execute(sql: "INSERT INTO rows (id) VALUES (?)", arguments: [id])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(commitsBeforeTheirs.values == [0, 0], "both in the first transaction after the deferred ones")
            await scratch.writer.commitDeferred()
            #expect(try scratch.rowIDs() == Array(1...12))
        }
    }

    // MARK: Deferrable writes

    /// Asks for a deferrable insert of row `id` that says something follows from it when `followed`.
    static func insertDeferrable(_ id: Int, into scratch: Scratch, followed: Bool = false) -> PendingResult<Int> {
        let inserted = PendingResult<Int>()
        scratch.writer.writeDeferrable({ db in
            try db.execute(sql: "INSERT INTO rows (id) VALUES (?)", arguments: [id])
            return id
        }, commitsAtOnce: { _ in followed }, completion: inserted.finish)
        return inserted
    }

    @Test("a deferrable write from which nothing follows runs at once and holds its transaction open for company")
    func deferrableWriteHoldsItsTransaction() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let before = scratch.commits.count
            let first = Self.insertDeferrable(1, into: scratch)
            let second = Self.insertDeferrable(2, into: scratch)
            try await waitUntil { scratch.writer.heldCount == 2 }
            #expect(try scratch.rowIDs() == [], "ran, not committed")
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (3)") }
            #expect(try await first.value == 1)
            #expect(try await second.value == 2)
            #expect(try scratch.rowIDs() == [1, 2, 3])
            #expect(scratch.commits.count - before == 1, "the three in one transaction")
            #expect(scratch.writer.heldCount == 0)
        }
    }

    @Test("a deferrable write from which something follows commits at once, with the writes held before it")
    func followedDeferrableWriteCommitsAtOnce() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let before = scratch.commits.count
            let held = Self.insertDeferrable(1, into: scratch)
            try await waitUntil { scratch.writer.heldCount == 1 }
            let asked = ContinuousClock.now
            #expect(try await Self.insertDeferrable(2, into: scratch, followed: true).value == 2)
            #expect(ContinuousClock.now - asked < .seconds(30), "without the 60 s wait")
            #expect(try await held.value == 1)
            #expect(try scratch.rowIDs() == [1, 2])
            #expect(scratch.commits.count - before == 1)
        }
    }

    @Test("a transaction held open commits on its own once the deferred writes' wait is over")
    func heldTransactionCommitsAfterTheWait() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .milliseconds(50))
            let asked = ContinuousClock.now
            #expect(try await Self.insertDeferrable(1, into: scratch).value == 1)
            #expect(ContinuousClock.now - asked >= .milliseconds(50))
            #expect(try scratch.rowIDs() == [1])
        }
    }

    @Test("a deferred write and a deferrable one asked for after it run in that order, in one transaction")
    func deferredAndDeferrableKeepTheirOrder() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let order = Recorded()
            scratch.writer.writeDeferred({ _ in order.append(1) }, completion: { _ in })
            scratch.writer.writeDeferrable({ _ in order.append(2) }, commitsAtOnce: { _ in false },
                                           completion: { _ in })
            try await waitUntil { scratch.writer.heldCount == 2 }
            #expect(order.values == [1, 2])
            await scratch.writer.commitDeferredIfAny()
            #expect(scratch.writer.heldCount == 0)
        }
    }

    @Test("commitDeferredIfAny commits a transaction held open, and reads then see its writes")
    func commitDeferredIfAnyCommitsAHeldTransaction() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let held = Self.insertDeferrable(1, into: scratch)
            try await waitUntil { scratch.writer.heldCount == 1 }
            await scratch.writer.commitDeferredIfAny()
            #expect(try scratch.rowIDs() == [1])
            #expect(try await held.value == 1)
        }
    }

    @Test("when a write that joins a held transaction throws, the held writes run again and commit; it alone fails")
    func heldWritesSurviveAFailureThatJoinsThem() async throws {
        struct Refused: Error {}
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let held = Self.insertDeferrable(1, into: scratch)
            try await waitUntil { scratch.writer.heldCount == 1 }
            await #expect(throws: Refused.self) {
                try await scratch.writer.write { db in
                    try db.execute(sql: "INSERT INTO rows (id) VALUES (2)")
                    throw Refused()
                }
            }
            #expect(try await held.value == 1)
            #expect(try scratch.rowIDs() == [1])
            #expect(scratch.writer.heldCount == 0)
        }
    }

    @Test("a commit that fails answers the writes held open with its error, and keeps none of them")
    func failedCommitFailsHeldWrites() async throws {
        try await withTemporaryFolder { folder in
            let scratch = try Scratch(folder: folder, deferredWait: .seconds(60))
            let held = Self.insertDeferrable(1, into: scratch)
            try await waitUntil { scratch.writer.heldCount == 1 }
            // The deferred foreign key is checked at COMMIT: this write breaks the whole transaction.
            await #expect(throws: DatabaseError.self) {
                try await scratch.writer.write { db in
                    try db.execute(sql: "INSERT INTO rows (id, parent) VALUES (2, 99)")
                }
            }
            await #expect(throws: DatabaseError.self) { try await held.value }
            #expect(try scratch.rowIDs() == [])
            try await scratch.writer.write { db in try db.execute(sql: "INSERT INTO rows (id) VALUES (7)") }
            #expect(try scratch.rowIDs() == [7])
        }
    }
}
