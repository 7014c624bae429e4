import Shared
import Synchronization

/// Makes jobs wait until the ``AdmissionLedger`` lets them start.
///
/// RabbitMQ bounds what each consumer holds (per-consumer prefetch), but no broker limit spans a
/// worker's several queues: quorum queues refuse per-channel (`global`) prefetch on 3.10 and
/// RabbitMQ 4.3 drops it. This gate keeps the sums across queues, and the account lease makes it
/// the only one deciding for its accounts (see README, "Admission").
final class AdmissionGate: Sendable {
    private struct State {
        var ledger: AdmissionLedger
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]

        var nextID = 0
    }

    private let state: Mutex<State>

    init(ledger: AdmissionLedger) {
        state = Mutex(State(ledger: ledger))
    }

    /// The account of a waiting job is held and no longer consumes: the job goes back to its queue.
    struct AccountHeld: Error, CustomStringConvertible {
        var account: String
        var description: String { "account \(account) is held; its job goes back to the queue" }
    }

    /// Waits until `request` may start. Throws `CancellationError` if the task is cancelled while waiting,
    /// ``AccountHeld`` when its account is held and hands its jobs back. Every successful call must be
    /// matched by one ``release(_:)``.
    func acquire(_ request: AdmissionLedger.Request) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Decided under the lock, so that the continuation is resumed exactly once: here,
                // by a release, or by the cancellation handler.
                let started = state.withLock { state -> Result<[CheckedContinuation<Void, any Error>], any Error> in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.ledger.refuses(request) { return .failure(AccountHeld(account: request.account)) }
                    state.waiters[id] = continuation
                    return .success(state.ledger.enqueue(id: id, request)
                        .compactMap { state.waiters.removeValue(forKey: $0) })
                }
                switch started {
                case .failure(let error): continuation.resume(throwing: error)
                case .success(let started): for waiter in started { waiter.resume() }
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard state.ledger.withdraw(id: id) else { return nil }
                return state.waiters.removeValue(forKey: id)
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Ends a started request; the jobs that may start in its place go.
    func release(_ request: AdmissionLedger.Request) {
        let started = state.withLock { state in
            state.ledger.finish(request).compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for waiter in started { waiter.resume() }
    }

    /// A run has ended owing `account` its cleanup: nothing new starts there until that cleanup has ended.
    /// Call it before the run's slot is released.
    func oweCleanup(account: String) {
        state.withLock { $0.ledger.oweCleanup(account: account) }
    }

    /// Waits until the cleanup owed on `account` may run: nothing but runs that owe cleanups runs there, and
    /// no other cleanup. Not cancellable: a cleanup owed must run (or be skipped) and end with
    /// ``endCleanup(account:)``.
    func waitForCleanupTurn(account: String) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        _ = try? await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            resume(state.withLock { state in
                state.waiters[id] = continuation
                return state.ledger.enqueueCleanup(id: id, account: account)
                    .compactMap { state.waiters.removeValue(forKey: $0) }
            })
        }
    }

    func endCleanup(account: String) {
        resume(state.withLock { state in
            state.ledger.endCleanup(account: account).compactMap { state.waiters.removeValue(forKey: $0) }
        })
    }

    /// Holds `account`: nothing starts there; its waiting jobs wait until ``handBack(account:)``.
    func hold(account: String) {
        state.withLock { $0.ledger.hold(account: account) }
    }

    /// The held account no longer consumes: its waiting jobs fail with ``AccountHeld`` and go back to their
    /// queues, and so does every job of the account that arrives from now on. Nothing unless it is held.
    func handBack(account: String) {
        let withdrawn = state.withLock { state in
            state.ledger.handBack(account: account).compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for waiter in withdrawn { waiter.resume(throwing: AccountHeld(account: account)) }
    }

    /// Lifts the hold of `account`.
    func release(account: String) {
        resume(state.withLock { state in
            state.ledger.release(account: account).compactMap { state.waiters.removeValue(forKey: $0) }
        })
    }

    private func resume(_ waiters: [CheckedContinuation<Void, any Error>]) {
        for waiter in waiters { waiter.resume() }
    }

    /// What runs on each account now, for heartbeats.
    var accountLoads: [String: AdmissionLedger.AccountLoad] { state.withLock { $0.ledger.accounts } }

    /// Jobs admitted and not released yet: starting, running or settling.
    var admitted: Int { state.withLock { $0.ledger.running } }
}
