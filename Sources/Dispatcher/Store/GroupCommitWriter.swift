import Dispatch
import GRDB
import Synchronization

/// Coalesces concurrent writes into shared transactions (group commit).
///
/// While one transaction commits, the writes that arrive wait together and go into the next
/// one: N concurrent requests cost one commit, and one sync of the disk at `full` durability,
/// instead of N. A caller resumes only after the transaction that holds its write has committed,
/// so an answer never names a change that a crash could lose. A write that throws fails alone:
/// the transaction rolls back and runs again with each write in a savepoint of its own, where the
/// write that threw rolls back its savepoint and leaves the others alone. (A write must therefore
/// change nothing but the database, as it may run twice.)
///
/// A write whose caller need not wait for it (``writeDeferred(_:completion:)``) starts no
/// transaction of its own: it rides in the next one, or in one of its own once it has waited
/// `deferredWait` for company.
///
/// The transactions run on the database's writer queue, not on a thread of the cooperative
/// pool. Every write of the store comes this way (``BotyardStore/write(_:_:)``).
final class GroupCommitWriter: Sendable {
    /// A write waiting for its transaction.
    private struct PendingWrite: Sendable {
        /// Runs the write (in a savepoint of its own when `inSavepoint`); returns whether it threw,
        /// and how to answer its caller once the transaction's fate (nil: committed or rolled back
        /// for this write alone, else the error) is known.
        let perform: @Sendable (_ db: Database, _ inSavepoint: Bool) -> (threw: Bool, answer: Answer)
        typealias Answer = @Sendable ((any Error)?) -> Void
        /// Answers the caller when the transaction failed before the write ran.
        let abandon: @Sendable (any Error) -> Void
    }

    private struct State {
        var waiting: [PendingWrite] = []
        /// Writes that join the next transaction and start none of their own before `deferredWait`.
        var deferred: [PendingWrite] = []
        /// Whether a transaction is scheduled or running; the next one starts when it ends.
        var committing = false
        /// Whether a transaction for the deferred writes is due at the end of their wait.
        var flushArmed = false
        /// Whether someone waits for the deferred writes: the next transaction starts at once.
        var flushAsked = false
        /// Whether the transaction that runs holds deferred writes, not committed yet.
        var deferredRunning = false

        /// Whether another transaction starts as soon as the one running ends.
        func needsTransaction(maximumBatch: Int) -> Bool {
            !waiting.isEmpty || (!deferred.isEmpty && (flushAsked || deferred.count >= maximumBatch))
        }
    }

    private let database: DatabasePool
    private let maximumBatch: Int
    private let deferredWait: Duration
    private let state = Mutex(State())
    /// Where the deferred writes' wait ends. A serial queue has a thread of its own; the global
    /// queue runs on the cooperative pool's few threads, and a busy pool would hold the flush back.
    private let flushQueue = DispatchQueue(label: "botyard.store.deferred-flush")

    /// - Parameters:
    ///   - maximumBatch: writes per transaction at most, so that one commit's latency stays bounded.
    ///   - deferredWait: how long a deferred write waits for a transaction to ride in before it
    ///     starts one.
    init(database: DatabasePool, maximumBatch: Int = 256, deferredWait: Duration = .milliseconds(20)) {
        self.database = database
        self.maximumBatch = maximumBatch
        self.deferredWait = deferredWait
    }

    /// Runs `body` in the next shared transaction and returns its value once that transaction
    /// has committed. Throws what `body` threw, or the error that kept the transaction from
    /// committing.
    func write<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(PendingWrite(
                perform: { db, inSavepoint in
                    let result = Result(catching: { () throws -> Value in
                        if !inSavepoint { return try body(db) }
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

    /// Runs `body` in the next shared transaction without making its caller wait, and without a
    /// transaction (and a sync) of its own unless none starts within `deferredWait`. For writes
    /// whose loss in a crash right after they were asked for costs nothing that matters (they
    /// are written again, or they only record what happened); `completion` is told whether the
    /// transaction committed (nil) or why not.
    func writeDeferred(_ body: @escaping @Sendable (Database) throws -> Void,
                       completion: @escaping @Sendable ((any Error)?) -> Void) {
        let write = PendingWrite(
            perform: { db, inSavepoint in
                let failure: (any Error)?
                do {
                    if inSavepoint { try db.inSavepoint { try body(db); return .commit } } else { try body(db) }
                    failure = nil
                } catch {
                    failure = error
                }
                return (failure != nil, { completion(failure ?? $0) })
            },
            abandon: completion)
        let arm = state.withLock { state in
            state.deferred.append(write)
            guard !state.committing, !state.flushArmed else { return false }
            state.flushArmed = true
            return true
        }
        if arm { armFlush() }
    }

    /// ``writeDeferred(_:completion:)`` for a caller that waits for the commit and the value:
    /// `body` rides in the next transaction, or starts one once it has waited `deferredWait`.
    func writeDeferred<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        // The value of the run that committed: a write that runs again in a savepoint replaces it.
        let value = Mutex<Value?>(nil)
        return try await withCheckedThrowingContinuation { continuation in
            writeDeferred({ db in
                let result = try body(db)
                value.withLock { $0 = result }
            }, completion: { failure in
                if let failure { return continuation.resume(throwing: failure) }
                continuation.resume(returning: value.withLock { $0! })
            })
        }
    }

    /// Returns once every deferred write asked for before this call has committed or failed (it
    /// starts a transaction for them at once): for readers of what deferred writes record, and
    /// before the store is let go.
    func commitDeferred() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // A mark behind them in their line, answered with their transaction.
            let mark = PendingWrite(perform: { _, _ in (false, { _ in continuation.resume() }) },
                                    abandon: { _ in continuation.resume() })
            let start = state.withLock { state in
                state.deferred.append(mark)
                state.flushAsked = true
                defer { state.committing = true }
                return !state.committing
            }
            if start { scheduleTransaction() }
        }
    }

    /// ``commitDeferred()`` when a deferred write waits or rides in a transaction not committed yet;
    /// at once otherwise (no transaction): for reads that must see what deferred writes record,
    /// and that usually find none.
    func commitDeferredIfAny() async {
        guard state.withLock({ !$0.deferred.isEmpty || $0.deferredRunning }) else { return }
        await commitDeferred()
    }

    /// Writes waiting for a transaction that has not begun yet (deferred ones not counted).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Deferred writes waiting for a transaction to ride in.
    var deferredCount: Int { state.withLock { $0.deferred.count } }

    private func enqueue(_ write: PendingWrite) {
        let start = state.withLock { state in
            state.waiting.append(write)
            defer { state.committing = true }
            return !state.committing
        }
        if start { scheduleTransaction() }
    }

    /// Starts a transaction for the deferred writes at the end of their wait, unless one has
    /// taken them by then.
    private func armFlush() {
        flushQueue.asyncAfter(deadline: .now() + .nanoseconds(Int(deferredWait / .nanoseconds(1)))) {
            let start = self.state.withLock { state in
                state.flushArmed = false
                guard !state.committing, !state.deferred.isEmpty else { return false }
                state.committing = true
                return true
            }
            if start { self.scheduleTransaction() }
        }
    }

    /// Queues the next transaction behind whatever the writer is doing. It takes the deferred
    /// writes first, in the order they were asked for, then the waiting ones.
    private func scheduleTransaction() {
        database.asyncWriteWithoutTransaction { db in
            let batch = self.state.withLock { state in
                // Half the room at most when writes wait for their answers, so that a flood of
                // deferred writes never holds them up.
                let deferredRoom = state.waiting.isEmpty ? self.maximumBatch : self.maximumBatch / 2
                let deferred = Array(state.deferred.prefix(deferredRoom))
                state.deferred.removeFirst(deferred.count)
                if state.deferred.isEmpty { state.flushAsked = false }
                let waiting = Array(state.waiting.prefix(self.maximumBatch - deferred.count))
                state.waiting.removeFirst(waiting.count)
                state.deferredRunning = !deferred.isEmpty
                return deferred + waiting
            }
            self.commit(batch, in: db)
            let (more, arm) = self.state.withLock { state in
                state.deferredRunning = false
                state.committing = state.needsTransaction(maximumBatch: self.maximumBatch)
                let arm = !state.committing && !state.deferred.isEmpty && !state.flushArmed
                if arm { state.flushArmed = true }
                return (state.committing, arm)
            }
            if more { self.scheduleTransaction() } else if arm { self.armFlush() }
        }
    }

    private func commit(_ batch: [PendingWrite], in db: Database) {
        if !commit(batch, inSavepoints: false, in: db) { commit(batch, inSavepoints: true, in: db) }
    }

    /// Runs `batch` in one transaction and answers its writes; false, with nothing answered, when
    /// a write of a shared transaction threw without a savepoint: the transaction rolled back, for
    /// the batch to run again `inSavepoints`, where the write that threw rolls back its own
    /// savepoint and the others commit.
    ///
    /// Without savepoints first: nearly every write succeeds, and savepoints cost. SQLite journals
    /// each page a savepoint changes, again in every savepoint, so the writes of a shared
    /// transaction journaled the same pages over and over, and past what SQLite keeps in memory
    /// into a temporary file (``StatementJournalSpill``); without them, a statement's journal is
    /// emptied when the statement ends. A write alone needs none: when it throws, its caller gets
    /// the error and the transaction rolls back.
    @discardableResult
    private func commit(_ batch: [PendingWrite], inSavepoints: Bool, in db: Database) -> Bool {
        var answers: [PendingWrite.Answer] = []
        var runAgain = false
        do {
            try db.inImmediateTransaction {
                for write in batch {
                    // A write whose failure made SQLite roll the whole transaction back leaves
                    // nothing for the rest to join: they fail with the commit.
                    guard db.isInsideTransaction else { throw Abandoned() }
                    let (threw, answer) = write.perform(db, inSavepoints)
                    if threw && !inSavepoints {
                        // Shared, its answer is dropped: it runs again, and is answered then.
                        if batch.count == 1 { answers.append(answer) } else { runAgain = true }
                        return .rollback
                    }
                    answers.append(answer)
                }
                return .commit
            }
        } catch {
            guard !runAgain else { return false }
            for (index, write) in batch.enumerated() {
                if index < answers.count { answers[index](error) } else { write.abandon(error) }
            }
            return true
        }
        guard !runAgain else { return false }
        for answer in answers { answer(nil) }
        return true
    }

    /// The transaction ended before every write of the batch could run.
    private struct Abandoned: Error, CustomStringConvertible {
        var description: String { "the shared transaction was rolled back by an earlier write's failure" }
    }
}
