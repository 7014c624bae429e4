import Shared
import Synchronization

/// Lets the worker stop a running bot from outside: an operator's cancel, or shutdown.
final class RunControl: Sendable {
    enum StopReason: Sendable, Equatable {
        case timedOut
        case cancelled
        /// The run's message no longer counts (the dispatcher said so); another run is the job's.
        case superseded
        /// The worker is shutting down and hands the job back.
        case shutdown
    }

    private struct State {
        var reason: StopReason?
        /// Set once the bot has exited: a stop request after that changes nothing.
        var finished = false
    }

    private let state = Mutex(State())
    private let signal = WakeSignal()

    init() {}

    /// Asks the bot to stop. The first reason given wins; a bot that already ended is not stopped.
    func stop(_ stopReason: StopReason) {
        let first = state.withLock { state -> Bool in
            guard state.reason == nil, !state.finished else { return false }
            state.reason = stopReason
            return true
        }
        if first { signal.notify() }
    }

    /// Records that the bot has exited; returns why it was stopped, if it was.
    func finish() -> StopReason? {
        state.withLock { state in
            state.finished = true
            return state.reason
        }
    }

    /// Why the bot was stopped; stable once ``finish()`` was called.
    var stopReason: StopReason? { state.withLock { $0.reason } }

    /// Returns why the bot must stop: a ``stop(_:)`` request, or `.timedOut` after `timeout`.
    /// Returns nil when the waiting task is cancelled (the bot ended on its own).
    func waitForStop(timeout: Duration) async -> StopReason? {
        await signal.wait(timeout: timeout)
        if let stopReason { return stopReason }
        if Task.isCancelled { return nil }
        stop(.timedOut)
        return stopReason
    }
}
