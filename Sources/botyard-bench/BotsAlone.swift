import Foundation

/// The end-to-end unit of work without anything around it: `runners` threads run `/bin/true` with
/// its output captured (``RawEndToEnd/runTrue()``, as every contender runs it) back to back, the
/// jobs shared out evenly, no broker, no store. Its machine CPU a job is the part of every
/// contender's that no orchestrator can take away (``EndToEndCPU``).
struct BotsAlone: Sendable {
    let jobs: Int
    let runners: Int

    struct Figures {
        var jobsPerSecond: Double
        var cpuPerJob: Duration
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func run() async throws -> Figures {
        let (elapsed, cpuPerJob) = try await MachineCPU.perJob(of: jobs) {
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for runner in 0..<runners {
                    let share = jobs / runners + (runner < jobs % runners ? 1 : 0)
                    group.addTask {
                        try await onThread {
                            for _ in 0..<share {
                                let exitCode = try RawEndToEnd.runTrue()
                                guard exitCode == 0 else { throw Failure(description: "/bin/true exited \(exitCode)") }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            return ContinuousClock.now - start
        }
        return Figures(jobsPerSecond: Double(jobs) / elapsed.seconds, cpuPerJob: cpuPerJob)
    }
}
