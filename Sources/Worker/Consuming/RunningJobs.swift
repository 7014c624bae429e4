import Synchronization

/// The jobs this worker runs now, and the ones it was told not to start.
final class RunningJobs: Sendable {
    private struct State {
        var running: [Int64: RunControl] = [:]
        /// Cancelled job ids, oldest first; bounded so that a long-lived worker does not grow.
        var cancelled: [Int64] = []
        var cancelledSet: Set<Int64> = []
    }

    private let state = Mutex(State())
    private static let rememberedCancels = 10_000

    /// Registers a job about to start; nil when it was cancelled before it began.
    func begin(jobID: Int64) -> RunControl? {
        state.withLock { state in
            guard !state.cancelledSet.contains(jobID) else { return nil }
            let control = RunControl()
            state.running[jobID] = control
            return control
        }
    }

    func end(jobID: Int64) {
        _ = state.withLock { $0.running.removeValue(forKey: jobID) }
    }

    /// Stops the job if it runs here, and refuses it if it arrives later.
    func cancel(jobID: Int64) {
        let control = state.withLock { state -> RunControl? in
            if state.cancelledSet.insert(jobID).inserted {
                state.cancelled.append(jobID)
                if state.cancelled.count > Self.rememberedCancels {
                    state.cancelledSet.remove(state.cancelled.removeFirst())
                }
            }
            return state.running[jobID]
        }
        control?.stop(.cancelled)
    }

    /// Stops every running bot (shutdown).
    func stopAll(_ reason: RunControl.StopReason) {
        for control in state.withLock({ Array($0.running.values) }) { control.stop(reason) }
    }

    var count: Int { state.withLock { $0.running.count } }
}
