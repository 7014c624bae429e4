import Foundation
import Shared

/// The dispatch measurement: jobs submitted with no worker running, timed from the first
/// submission until the dispatcher counts them all `queued` (stored, published, confirmed).
struct DispatchMeasurement {
    let driver: Driver
    let submitter: SocketSubmitter
    let dispatcher: Int32
    /// How often the dispatcher's counts are read once every job has been answered: the run's end is
    /// known to within this (a run of 10,000 batched jobs lasts about half a second).
    var poll: Duration = .milliseconds(5)

    /// `repeats` runs of `jobs` no-op jobs, run `n` in group `<group><n>`, printed as they end.
    func runs(_ repeats: Int, of jobs: Int, group: String, to endpoint: SocketSubmitter.Endpoint = .single,
              connections: Int = 32) async throws -> [DispatchRun] {
        var runs: [DispatchRun] = []
        for run in 1...repeats {
            let requests = (0..<jobs).map { _ in SubmitJobRequest(bot: "noop", group: "\(group)\(run)") }
            let bodies = try endpoint.bodies(requests)
            let queuedBefore = try await driver.stats().count(.queued)
            let cpuBefore = CPUTime.of(process: dispatcher)
            let start = ContinuousClock.now
            _ = try await submitter.submit(bodies, to: endpoint, connections: connections)
            try await driver.waitFor(timeout: .seconds(120), poll: poll) { $0.count(.queued) >= queuedBefore + jobs }
            let elapsed = ContinuousClock.now - start
            let cpu = CPUTime.of(process: dispatcher) - cpuBefore
            runs.append(DispatchRun(rate: Double(jobs) / elapsed.seconds, cpuPerJob: cpu.seconds * 1e6 / Double(jobs)))
            say("  run \(run): \(runs.last!)")
        }
        return runs
    }
}

/// One dispatch measurement: jobs/s until queued, and the dispatcher's CPU per job.
struct DispatchRun: CustomStringConvertible {
    var rate: Double
    /// Microseconds.
    var cpuPerJob: Double

    var description: String { String(format: "%.0f jobs/s, dispatcher CPU %.0f µs per job; load %@", rate, cpuPerJob,
                                     loadAverage()) }

    /// The table's cell: the median rate, its share of raw publish when given, and the median CPU per job.
    static func describe(_ runs: [DispatchRun], rawPublish: Double? = nil) -> String {
        let rate = median(runs.map(\.rate))
        let share = rawPublish.map { String(format: " (%.0f %% of raw publish)", rate / $0 * 100) } ?? ""
        return String(format: "%.0f jobs/s%@; dispatcher CPU %.0f µs per job", rate, share,
                      median(runs.map(\.cpuPerJob)))
    }
}
