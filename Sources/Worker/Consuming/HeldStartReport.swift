import Shared
import Synchronization

/// A run's `started` report, held back for ``WorkerConfiguration/startReportDelay``: a run that
/// ends before then sends none, since its `finished` report carries the start, and one report does
/// for two.
///
/// No task waits out the delay: an entry of the process's ``DeadlineTimer`` starts the report once
/// the delay has passed with the run still going, so a short run costs no task for it. The run's
/// end is reported only once a start's report that went is confirmed (``runEnded()``): the
/// dispatcher reads a run's start before its end.
final class HeldStartReport: Sendable {
    private struct State {
        var ended = false
        /// The report on its way, once the delay has passed with the run going.
        var sending: Task<Void, any Error>?
        var deadline: DeadlineTimer.Token?
    }

    private let state = Mutex(State())

    /// Sends the report with `send` once `delay` has passed, unless the run has ended by then;
    /// at once when `delay` is zero.
    init(delay: Duration, send: @escaping @Sendable () async throws -> Void) {
        guard delay > .zero else {
            state.withLock { $0.sending = Task { try await send() } }
            return
        }
        let deadline = DeadlineTimer.shared.schedule(after: delay) { [self] in
            self.state.withLock { state in
                guard !state.ended else { return }
                state.sending = Task { try await send() }
            }
        }
        state.withLock { $0.deadline = deadline }
    }

    /// The run has ended: returns once its end's report may go. A start's report on its way (the
    /// delay passed with the run going) is waited for until the broker confirmed it — its task may
    /// not have reached the publisher yet, and an end published first would reach the dispatcher
    /// first; one that has not gone never will (the end's report carries the start). Throws that
    /// report's failure.
    func runEnded() async throws {
        stopHolding()
        try await settled()
    }

    /// No report starts any more.
    private func stopHolding() {
        let deadline = state.withLock { state in
            state.ended = true
            defer { state.deadline = nil }
            return state.deadline
        }
        if let deadline { DeadlineTimer.shared.cancel(deadline) }
    }

    /// Gives up on the report (the job failed otherwise): none starts any more, and one on its way is
    /// cancelled, so that it stops retrying; returns once it has stopped.
    func abandon() async {
        stopHolding()
        let sending = state.withLock { $0.sending }
        sending?.cancel()
        _ = try? await sending?.value
    }

    /// Waits for the report if it went, and throws its failure.
    private func settled() async throws {
        try await state.withLock { $0.sending }?.value
    }
}
