import Synchronization
import Shared

/// Tells a run's held `started` report that the run has ended: the end's report carries the
/// start, and the start's report need not go (``WorkerConfiguration/startReportDelay``).
final class RunEnd: Sendable {
    private let ended = Atomic<Bool>(false)
    private let signal = WakeSignal()

    /// The run has ended.
    func mark() {
        ended.store(true, ordering: .releasing)
        signal.notify()
    }

    /// Waits up to `delay` for the run's end (less when the task is cancelled): whether it ended.
    func wait(upTo delay: Duration) async -> Bool {
        if !ended.load(ordering: .acquiring) { await signal.wait(timeout: delay) }
        return ended.load(ordering: .acquiring)
    }
}
