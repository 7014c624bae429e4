import Foundation
import Shared
import Synchronization

/// Where jobs' time goes in this worker: a ``LatencyHistogram`` per ``JobStage``, over the
/// process's life (bounded memory), written as JSON on request (`--stage-timings`).
final class StageTimings: Sendable {
    private let histograms = Mutex<[JobStage: LatencyHistogram]>([:])

    /// Times one job's stages, each from the one before, starting when its delivery arrived.
    struct Clock {
        private var last: ContinuousClock.Instant? = .now
        private let timings: StageTimings

        init(timings: StageTimings) {
            self.timings = timings
        }

        /// `stage` was reached now.
        mutating func reached(_ stage: JobStage) {
            reached(stage, at: .now)
        }

        /// `stage` was reached at `instant`.
        mutating func reached(_ stage: JobStage, at instant: ContinuousClock.Instant) {
            guard let last else { return }
            timings.record(stage, instant - last)
            self.last = instant
        }

        /// The job skipped a stage (its bot never started): its later stages are not timed.
        mutating func stop() {
            last = nil
        }
    }

    func clock() -> Clock { Clock(timings: self) }

    func record(_ stage: JobStage, _ duration: Duration) {
        histograms.withLock { $0[stage, default: LatencyHistogram()].record(duration) }
    }

    var snapshot: [JobStage: LatencyHistogram] { histograms.withLock { $0 } }

    /// Writes the histograms to `url` as JSON, keyed by stage.
    func write(to url: URL) throws {
        try JSONEncoder().encode(snapshot).write(to: url, options: .atomic)
    }
}
