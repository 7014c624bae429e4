import Shared
import Synchronization

/// Lets the worker stop a running bot from outside: an operator's cancel, or shutdown.
final class RunControl: Sendable {
    enum StopReason: Sendable, Equatable {
        case timedOut
        case cancelled
        /// The worker is shutting down and hands the job back.
        case shutdown
    }

    private let reason = Mutex<StopReason?>(nil)
    private let signal = WakeSignal()

    init() {}

    /// Asks the bot to stop. The first reason given wins.
    func stop(_ stopReason: StopReason) {
        let first = reason.withLock { current -> Bool in
            guard current == nil else { return false }
            current = stopReason
            return true
        }
        if first { signal.notify() }
    }

    var stopReason: StopReason? { reason.withLock { $0 } }

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
