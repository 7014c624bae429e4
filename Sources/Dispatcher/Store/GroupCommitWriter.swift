import GRDB
import Synchronization

/// Coalesces concurrent writes into shared transactions (group commit).
///
/// While one transaction commits, the writes that arrive wait together and go into the next
/// one, each in a savepoint of its own: N concurrent requests cost one commit, and one sync of
/// the disk at `full` durability, instead of N. A caller resumes only after the transaction that
/// holds its write has committed, so an answer never names a change that a crash could lose; a
/// write that throws rolls back its own savepoint and leaves the others in the batch alone. A
/// write alone in its transaction needs no savepoint: when it throws, the transaction rolls back.
///
/// The transactions run on the database's writer queue, not on a thread of the cooperative
/// pool, and take turns there with the store's other writes.
final class GroupCommitWriter: Sendable {
    /// A write waiting for its transaction.
    private struct PendingWrite: Sendable {
        /// Runs the write (in a savepoint of its own unless it is `alone` in the transaction);
        /// returns whether it threw, and how to answer its caller once the transaction's fate
        /// (nil: committed or rolled back for this write alone, else the error) is known.
        let perform: @Sendable (_ db: Database, _ alone: Bool) -> (threw: Bool, answer: Answer)
        typealias Answer = @Sendable ((any Error)?) -> Void
        /// Answers the caller when the transaction failed before the write ran.
        let abandon: @Sendable (any Error) -> Void
    }

    private struct State {
        var waiting: [PendingWrite] = []
        /// Whether a transaction is scheduled or running; the next one starts when it ends.
        var committing = false
    }

    private let database: DatabasePool
    private let maximumBatch: Int
    private let state = Mutex(State())

    /// - Parameter maximumBatch: writes per transaction at most, so that one commit's latency stays bounded.
    init(database: DatabasePool, maximumBatch: Int = 256) {
        self.database = database
        self.maximumBatch = maximumBatch
    }

    /// Runs `body` in the next shared transaction and returns its value once that transaction
    /// has committed. Throws what `body` threw, or the error that kept the transaction from
    /// committing.
    func write<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(PendingWrite(
                perform: { db, alone in
                    let result = Result(catching: { () throws -> Value in
                        if alone { return try body(db) }
                        var value: Value?
                        try db.inSavepoint {
                            value = try body(db)
                            return .commit
                        }
                        return value!
                    })
                    let threw = if case .failure = result { true } else { false }
                    return (threw, { failure in
                        if let failure { continuation.resume(throwing: failure) } else { continuation.resume(with: result) }
                    })
                },
                abandon: { continuation.resume(throwing: $0) }))
        }
    }

    /// Writes waiting for a transaction that has not begun yet.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    private func enqueue(_ write: PendingWrite) {
        let start = state.withLock { state in
            state.waiting.append(write)
            defer { state.committing = true }
            return !state.committing
        }
        if start { scheduleTransaction() }
    }

    /// Queues the next transaction behind whatever the writer is doing.
    private func scheduleTransaction() {
        database.asyncWriteWithoutTransaction { db in
            let batch = self.state.withLock { state in
                let batch = Array(state.waiting.prefix(self.maximumBatch))
                state.waiting.removeFirst(batch.count)
                return batch
            }
            self.commit(batch, in: db)
            let more = self.state.withLock { state in
                if state.waiting.isEmpty { state.committing = false }
                return state.committing
            }
            if more { self.scheduleTransaction() }
        }
    }

    private func commit(_ batch: [PendingWrite], in db: Database) {
        var answers: [PendingWrite.Answer] = []
        do {
            try db.inTransaction(.immediate) {
                let alone = batch.count == 1
                for write in batch {
                    // A write whose failure made SQLite roll the whole transaction back leaves
                    // nothing for the rest to join: they fail with the commit.
                    guard db.isInsideTransaction else { throw Abandoned() }
                    let (threw, answer) = write.perform(db, alone)
                    answers.append(answer)
                    if alone && threw { return .rollback }
                }
                return .commit
            }
        } catch {
            for (index, write) in batch.enumerated() {
                if index < answers.count { answers[index](error) } else { write.abandon(error) }
            }
            return
        }
        for answer in answers { answer(nil) }
    }

    /// The transaction ended before every write of the batch could run.
    private struct Abandoned: Error, CustomStringConvertible {
        var description: String { "the shared transaction was rolled back by an earlier write's failure" }
    }
}
