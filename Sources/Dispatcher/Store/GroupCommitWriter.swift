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
/// A write whose caller need not wait for it (``writeDeferred(_:weight:completion:)``) starts no
/// transaction of its own: it rides in the next one, or in one of its own once it has waited
/// `deferredWait` for company, or as soon as the writer is free once the deferred writes waiting
/// weigh `promptWeight` (the rows they change): company is worth a wait while the writes are
/// small beside a commit, not when a burst's last hundreds of rows would wait for nobody. A write
/// that may wait unless something follows from it (``writeDeferrable(_:commitsAtOnce:completion:)``)
/// runs at once, and its transaction stays open for company when nothing does: the next write that
/// commits at once commits it too.
///
/// The transactions run on the database's writer queue, not on a thread of the cooperative
/// pool. Every write of the store comes this way (``BotyardStore/write(_:_:)``). The database must
/// allow a transaction to stay open between two of the writer's accesses
/// (`Configuration.allowsUnsafeTransactions`).
final class GroupCommitWriter: Sendable {
    /// A write waiting for its transaction.
    private struct PendingWrite: Sendable {
        /// Runs the write (in a savepoint of its own when `inSavepoint`).
        let perform: @Sendable (_ db: Database, _ inSavepoint: Bool) -> Ran
        /// Answers the caller when the transaction failed before the write ran.
        let abandon: @Sendable (any Error) -> Void
        /// Whether the write may wait for company once it ran (deferred, or deferrable).
        let mayWait: Bool
        /// What a deferred write weighs: the rows it changes (other writes, and marks, nothing).
        let weight: Int
        /// When it was asked for: the writes that wait for company commit once the oldest of them
        /// has waited `deferredWait`.
        let askedAt = ContinuousClock.now
    }

    /// What running a write did.
    private struct Ran: Sendable {
        /// The write threw.
        var threw: Bool
        /// Its transaction commits at once: its caller waits, or something follows from the write.
        var commitsAtOnce: Bool
        /// Answers the caller once the transaction's fate is known: nil when it committed or rolled
        /// back for this write alone (the caller gets the write's own result), else the error.
        var answer: @Sendable ((any Error)?) -> Void
    }

    /// A write that ran in the transaction held open for company, and its answer.
    private typealias HeldWrite = (write: PendingWrite, answer: @Sendable ((any Error)?) -> Void)

    private struct State {
        var waiting: [PendingWrite] = []
        /// Writes that join the next transaction and start none of their own before `deferredWait`.
        var deferred: [PendingWrite] = []
        /// Writes that ran in the transaction left open on the writer's connection, not committed.
        var held: [HeldWrite] = []
        /// Whether a transaction is scheduled or running; the next one starts when it ends.
        var committing = false
        /// Whether a transaction for the deferred writes is due at the end of their wait.
        var flushArmed = false
        /// Whether someone waits for the deferred writes (or their wait is over): the next
        /// transaction starts at once, and commits.
        var flushAsked = false
        /// Whether writes that may wait for company run in the transaction running or held open.
        var deferredRunning = false

        /// What the deferred writes waiting weigh together.
        var deferredWeight: Int { deferred.reduce(0) { $0 + $1.weight } }

        /// When the oldest write waiting for company (deferred, or held open) was asked for.
        var oldestWaitingWrite: ContinuousClock.Instant? {
            guard let deferred = deferred.first?.askedAt else { return held.first?.write.askedAt }
            return min(deferred, held.first?.write.askedAt ?? deferred)
        }

        /// Whether another transaction starts as soon as the one running ends.
        func needsTransaction(maximumBatch: Int) -> Bool {
            !waiting.isEmpty || ((!deferred.isEmpty || !held.isEmpty) && flushAsked) || deferred.count >= maximumBatch
        }
    }

    private let database: DatabasePool
    private let maximumBatch: Int
    private let deferredWait: Duration
    private let promptWeight: Int
    private let state = Mutex(State())
    /// Where the deferred writes' wait ends. A serial queue has a thread of its own; the global
    /// queue runs on the cooperative pool's few threads, and a busy pool would hold the flush back.
    private let flushQueue = DispatchQueue(label: "botyard.store.deferred-flush")

    /// - Parameters:
    ///   - maximumBatch: writes per transaction at most, so that one commit's latency stays bounded.
    ///   - deferredWait: how long a deferred write waits for a transaction to ride in before it
    ///     starts one.
    ///   - promptWeight: what the deferred writes waiting weigh when they wait no longer.
    init(database: DatabasePool, maximumBatch: Int = 256, deferredWait: Duration = .milliseconds(20),
         promptWeight: Int = 16) {
        precondition(database.configuration.allowsUnsafeTransactions,
                     "the group commit writer holds transactions open between accesses")
        self.database = database
        self.maximumBatch = maximumBatch
        self.deferredWait = deferredWait
        self.promptWeight = promptWeight
    }

    /// Runs `body` in the next shared transaction and returns its value once that transaction
    /// has committed. Throws what `body` threw, or the error that kept the transaction from
    /// committing.
    func write<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            write(body, completion: { continuation.resume(with: $0) })
        }
    }

    /// ``write(_:)`` for a caller that queues the write now and takes its result later:
    /// `completion` gets the value once the transaction committed, or the error.
    func write<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value,
                                completion: @escaping @Sendable (Result<Value, any Error>) -> Void) {
        enqueue(Self.pendingWrite(body, mayWait: false, commitsAtOnce: { _ in true }, completion: completion))
    }

    /// Runs `body` in the next shared transaction without making its caller wait, and without a
    /// transaction (and a sync) of its own unless none starts within `deferredWait`. For writes
    /// whose loss in a crash right after they were asked for costs nothing that matters (they
    /// are written again, or they only record what happened); `completion` is told whether the
    /// transaction committed (nil) or why not. `weight` is what the write changes, in rows.
    func writeDeferred(_ body: @escaping @Sendable (Database) throws -> Void, weight: Int = 1,
                       completion: @escaping @Sendable ((any Error)?) -> Void) {
        writeDeferred(body, weight: weight, result: { result in
            if case .failure(let error) = result { completion(error) } else { completion(nil) }
        })
    }

    /// ``writeDeferred(_:weight:completion:)`` whose `result` gets the write's value once it
    /// committed, or the error.
    func writeDeferred<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value, weight: Int = 1,
                                        result: @escaping @Sendable (Result<Value, any Error>) -> Void) {
        appendDeferred(Self.pendingWrite(body, mayWait: true, weight: weight, commitsAtOnce: { _ in false },
                                         completion: result))
    }

    /// Runs `body` at once, in the transaction held open for company or a new one, and commits that
    /// transaction at once only when `commitsAtOnce` says so of the value: when something follows
    /// from the write that must not wait for the commit. Otherwise the transaction stays open for
    /// company, and commits with the next write that commits at once, or once `deferredWait` is
    /// over. `completion` gets the value once it committed, or the error.
    ///
    /// Asked for in order, run in that order: the write is queued before this returns.
    func writeDeferrable<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value,
                                          commitsAtOnce: @escaping @Sendable (Value) -> Bool,
                                          completion: @escaping @Sendable (Result<Value, any Error>) -> Void) {
        enqueue(Self.pendingWrite(body, mayWait: true, commitsAtOnce: commitsAtOnce, completion: completion))
    }

    /// Returns once every deferred write asked for before this call has committed or failed (it
    /// starts a transaction for them at once, and commits the one held open): for readers of what
    /// deferred writes record, and before the store is let go.
    func commitDeferred() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // A mark behind them in their line, answered with their transaction.
            let mark = PendingWrite(
                perform: { _, _ in Ran(threw: false, commitsAtOnce: true, answer: { _ in continuation.resume() }) },
                abandon: { _ in continuation.resume() }, mayWait: false, weight: 0)
            let start = state.withLock { state in
                state.deferred.append(mark)
                state.flushAsked = true
                defer { state.committing = true }
                return !state.committing
            }
            if start { scheduleTransaction() }
        }
    }

    /// ``commitDeferred()`` when a deferred write waits, or ran in a transaction not committed yet;
    /// at once otherwise (no transaction): for reads that must see what deferred writes record,
    /// and that usually find none.
    func commitDeferredIfAny() async {
        guard state.withLock({ !$0.deferred.isEmpty || $0.deferredRunning }) else { return }
        await commitDeferred()
    }

    /// A write of `body` whose value goes to `completion` once its transaction's fate is known.
    private static func pendingWrite<Value: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> Value, mayWait: Bool, weight: Int = 0,
        commitsAtOnce: @escaping @Sendable (Value) -> Bool,
        completion: @escaping @Sendable (Result<Value, any Error>) -> Void
    ) -> PendingWrite {
        PendingWrite(
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
                let answer: @Sendable ((any Error)?) -> Void = { failure in
                    completion(failure.map { .failure($0) } ?? result)
                }
                guard case .success(let value) = result else {
                    return Ran(threw: true, commitsAtOnce: true, answer: answer)
                }
                return Ran(threw: false, commitsAtOnce: commitsAtOnce(value), answer: answer)
            },
            abandon: { completion(.failure($0)) },
            mayWait: mayWait,
            weight: weight)
    }

    /// Writes waiting for a transaction that has not begun yet (deferred ones not counted).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Deferred writes waiting for a transaction to ride in.
    var deferredCount: Int { state.withLock { $0.deferred.count } }

    /// Writes that ran in the transaction held open for company.
    var heldCount: Int { state.withLock { $0.held.count } }

    private func enqueue(_ write: PendingWrite) {
        let start = state.withLock { state in
            state.waiting.append(write)
            defer { state.committing = true }
            return !state.committing
        }
        if start { scheduleTransaction() }
    }

    private func appendDeferred(_ write: PendingWrite) {
        let next = state.withLock { state -> FlushStep in
            state.deferred.append(write)
            if state.deferredWeight >= promptWeight {
                // Heavy enough to commit alone: in the next transaction, begun now if none runs.
                state.flushAsked = true
                guard !state.committing else { return .nothing }
                state.committing = true
                return .transaction
            }
            guard !state.committing, !state.flushArmed else { return .nothing }
            state.flushArmed = true
            return .wait
        }
        switch next {
        case .nothing: break
        case .transaction: scheduleTransaction()
        case .wait: armFlush()
        }
    }

    /// What a deferred write, or the end of a wait for company, leads to.
    private enum FlushStep {
        /// Nothing: no write waits any more, or the transaction running starts the one that commits them.
        case nothing
        /// A transaction that commits the writes waiting.
        case transaction
        /// A wait for company: the first, or another once the writes the last one was for have
        /// committed and the oldest waiting now is younger.
        case wait
    }

    /// Commits the deferred writes once the oldest of them has waited `deferredWait`: those waiting
    /// and those held in an open transaction, unless a transaction has taken them by then. A wait
    /// whose writes committed before its end waits on for the oldest write left (ending it then
    /// cost the steady fleet a transaction and a sync of their own four times a second).
    private func armFlush() {
        let oldest = state.withLock { $0.oldestWaitingWrite } ?? .now
        let wait = max(.zero, oldest + deferredWait - .now)
        flushQueue.asyncAfter(deadline: .now() + .nanoseconds(Int(wait / .nanoseconds(1)))) {
            let step = self.state.withLock { state -> FlushStep in
                guard let oldest = state.oldestWaitingWrite else {
                    state.flushArmed = false
                    return .nothing
                }
                // The timer may end a hair before the clock says the wait is over.
                if oldest + self.deferredWait > .now + .milliseconds(1) { return .wait }
                state.flushArmed = false
                state.flushAsked = true
                // A transaction running now starts the next when it ends, and that one commits.
                guard !state.committing else { return .nothing }
                state.committing = true
                return .transaction
            }
            switch step {
            case .nothing: break
            case .transaction: self.scheduleTransaction()
            case .wait: self.armFlush()
            }
        }
    }

    /// Queues the next transaction behind whatever the writer is doing. It takes the deferred
    /// writes first, in the order they were asked for, then the waiting ones, and runs them after
    /// those held open, in the same transaction.
    private func scheduleTransaction() {
        database.asyncWriteWithoutTransaction { db in
            let (batch, held, mustCommit) = self.state.withLock { state in
                let mustCommit = state.flushAsked
                // Half the room at most when writes wait for their answers, so that a flood of
                // deferred writes never holds them up.
                let deferredRoom = state.waiting.isEmpty ? self.maximumBatch : self.maximumBatch / 2
                let deferred = Array(state.deferred.prefix(deferredRoom))
                state.deferred.removeFirst(deferred.count)
                if state.deferred.isEmpty { state.flushAsked = false }
                let waiting = Array(state.waiting.prefix(self.maximumBatch - deferred.count))
                state.waiting.removeFirst(waiting.count)
                let held = state.held
                state.held = []
                state.deferredRunning = !held.isEmpty || !deferred.isEmpty || waiting.contains(where: \.mayWait)
                return (deferred + waiting, held, mustCommit)
            }
            let stillHeld = self.run(batch, after: held, mustCommit: mustCommit, in: db)
            let (more, arm) = self.state.withLock { state in
                state.held = stillHeld
                state.deferredRunning = !stillHeld.isEmpty
                state.committing = state.needsTransaction(maximumBatch: self.maximumBatch)
                let arm = !state.committing && (!state.deferred.isEmpty || !state.held.isEmpty) && !state.flushArmed
                if arm { state.flushArmed = true }
                return (state.committing, arm)
            }
            if more { self.scheduleTransaction() } else if arm { self.armFlush() }
        }
    }

    /// Runs `batch` in the transaction held open with `held` (or a new one) and commits it, unless
    /// every write in it may wait for company and none says something follows from it, nor
    /// `mustCommit`: then returns the writes it holds, uncommitted, for the next transaction.
    ///
    /// Without savepoints first: nearly every write succeeds, and savepoints cost. SQLite journals
    /// each page a savepoint changes, again in every savepoint, so the writes of a shared
    /// transaction journaled the same pages over and over, and past what SQLite keeps in memory
    /// into a temporary file (``StatementJournalSpill``); without them, a statement's journal is
    /// emptied when the statement ends. When a write of a shared transaction throws, everything
    /// rolls back and runs again in savepoints (``commitInSavepoints(_:in:)``); a write alone needs
    /// none: its caller gets the error and the transaction rolls back.
    private func run(_ batch: [PendingWrite], after held: [HeldWrite], mustCommit: Bool,
                     in db: Database) -> [HeldWrite] {
        if held.isEmpty {
            do {
                try db.beginImmediateTransaction()
            } catch {
                for write in batch { write.abandon(error) }
                return []
            }
        }
        var ran = held
        var commitNow = mustCommit
        for (index, write) in batch.enumerated() {
            // A write whose failure made SQLite roll the whole transaction back leaves nothing
            // for the rest to join: they fail with it.
            guard db.isInsideTransaction else {
                fail(ran, abandoning: batch[index...], with: Abandoned())
                return []
            }
            let outcome = write.perform(db, false)
            if outcome.threw {
                try? db.rollback()
                guard ran.isEmpty && batch.count == 1 else {
                    // Shared, its answer is dropped: it runs again, and is answered then.
                    commitInSavepoints(held.map(\.write) + batch, in: db)
                    return []
                }
                outcome.answer(nil)
                return []
            }
            ran.append((write, outcome.answer))
            commitNow = commitNow || outcome.commitsAtOnce
        }
        guard commitNow || ran.count >= maximumBatch else { return ran }
        do {
            try db.commitTransaction()
        } catch {
            try? db.rollback()
            fail(ran, abandoning: [], with: error)
            return []
        }
        for write in ran { write.answer(nil) }
        return []
    }

    /// Runs `batch` in one transaction, each write in a savepoint of its own (a write that throws
    /// rolls back its own changes only), commits, and answers every write.
    private func commitInSavepoints(_ batch: [PendingWrite], in db: Database) {
        var answers: [@Sendable ((any Error)?) -> Void] = []
        do {
            try db.inImmediateTransaction {
                for write in batch {
                    guard db.isInsideTransaction else { throw Abandoned() }
                    answers.append(write.perform(db, true).answer)
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

    /// Answers the writes that ran and those that did not with the error that ended their transaction.
    private func fail(_ ran: [HeldWrite], abandoning rest: ArraySlice<PendingWrite>, with error: any Error) {
        for write in ran { write.answer(error) }
        for write in rest { write.abandon(error) }
    }

    /// The transaction ended before every write of the batch could run.
    private struct Abandoned: Error, CustomStringConvertible {
        var description: String { "the shared transaction was rolled back by an earlier write's failure" }
    }
}
