@testable import Dispatcher
import Foundation
import Shared
import Synchronization

/// The result of work asked for now and finished later (a write queued for the store's next
/// transaction): set once, by whoever finishes the work, and awaited by one task. It lets a test
/// queue writes in order without waiting for them, and take their results afterwards.
final class PendingResult<Value: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Value, any Error>?)
        case finished(Result<Value, any Error>)
    }

    private let state = Mutex(State.waiting(nil))

    init() {}

    /// Sets the result; later calls change nothing.
    func finish(_ result: Result<Value, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard case .waiting(let waiter) = state else { return nil }
            state = .finished(result)
            return waiter
        }
        waiter?.resume(with: result)
    }

    /// The value, once the work finished; throws what it failed with. One task at a time may wait.
    var value: Value {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let finished = state.withLock { state -> Result<Value, any Error>? in
                    switch state {
                    case .finished(let result):
                        return result
                    case .waiting(let waiter):
                        precondition(waiter == nil, "one task at a time may wait for a pending result")
                        state = .waiting(continuation)
                        return nil
                    }
                }
                if let finished { continuation.resume(with: finished) }
            }
        }
    }
}

extension BotyardStore {
    /// The event consumer's ``apply(_:heartbeats:commit:at:completion:)``, its result taken later.
    func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat],
               commit: ReportCommit) -> PendingResult<AppliedEvents> {
        let applied = PendingResult<AppliedEvents>()
        apply(events, heartbeats: heartbeats, commit: commit) { applied.finish($0.mapError { $0 }) }
        return applied
    }
}
