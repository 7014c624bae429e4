import Synchronization

/// The jobs this worker runs now, and the ones it was told not to start.
final class RunningJobs: Sendable {
    private struct State {
        /// Runs by job; a job can have two runs here when the broker delivered its message twice.
        var running: [Int64: [String: RunControl]] = [:]
        /// Cancelled job ids, oldest first; bounded so that a long-lived worker does not grow.
        var cancelled: [Int64] = []
        var cancelledSet: Set<Int64> = []
        /// Set by ``stopAll(_:)``: a run that begins afterwards is stopped before its bot starts.
        var stopNewRuns: RunControl.StopReason?
        /// Runs registered since the worker started.
        var begun = 0
    }

    private let state = Mutex(State())
    private static let rememberedCancels = 10_000

    /// Registers a run about to start; nil when its job was cancelled before it began.
    ///
    /// - Parameter stopGrace: how long the bot may take to finish on its own when stopped politely.
    func begin(jobID: Int64, runID: String, stopGrace: Duration = .zero) -> RunControl? {
        state.withLock { state in
            guard !state.cancelledSet.contains(jobID) else { return nil }
            let control = RunControl(stopGrace: stopGrace)
            state.begun += 1
            if let reason = state.stopNewRuns { control.stop(reason) }
            state.running[jobID, default: [:]][runID] = control
            return control
        }
    }

    func end(jobID: Int64, runID: String) {
        state.withLock { state in
            state.running[jobID]?.removeValue(forKey: runID)
            if state.running[jobID]?.isEmpty == true { state.running.removeValue(forKey: jobID) }
        }
    }

    /// Stops the job if it runs here, and refuses it if it arrives later.
    func cancel(jobID: Int64) {
        let controls = state.withLock { state -> [RunControl] in
            if state.cancelledSet.insert(jobID).inserted {
                state.cancelled.append(jobID)
                if state.cancelled.count > Self.rememberedCancels {
                    state.cancelledSet.remove(state.cancelled.removeFirst())
                }
            }
            return Array(state.running[jobID]?.values ?? [:].values)
        }
        for control in controls { control.stop(.cancelled) }
    }

    /// Stops one run of a job, if it runs here; the job's other runs go on.
    func stop(jobID: Int64, runID: String) {
        state.withLock { $0.running[jobID]?[runID] }?.stop(.superseded)
    }

    /// Stops every running bot, and every run that begins from now on (shutdown).
    func stopAll(_ reason: RunControl.StopReason) {
        let controls = state.withLock { state in
            state.stopNewRuns = reason
            return state.running.values.flatMap(\.values)
        }
        for control in controls { control.stop(reason) }
    }

    /// Pauses every run of the job here; false when none runs.
    func pause(jobID: Int64) -> Bool {
        controls(of: jobID).map { $0.pause() }.contains(true)
    }

    /// Resumes every run of the job here; false when none runs.
    func resume(jobID: Int64) -> Bool {
        controls(of: jobID).map { $0.resume() }.contains(true)
    }

    private func controls(of jobID: Int64) -> [RunControl] {
        state.withLock { Array($0.running[jobID]?.values ?? [:].values) }
    }

    /// The longest stop grace of the runs here: how long a shutdown waits for them at most, before SIGTERM.
    var longestStopGrace: Duration {
        state.withLock { $0.running.values.flatMap(\.values).map(\.stopGrace).max() ?? .zero }
    }

    var count: Int { state.withLock { $0.running.values.reduce(0) { $0 + $1.count } } }

    /// Runs registered since the worker started: unchanged between two looks, no run began in between.
    var begun: Int { state.withLock { $0.begun } }
}
