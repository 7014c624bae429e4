import Foundation

/// The CPU time every process on the machine spent, from the kernel's `/proc/stat`: what a job
/// costs the whole machine — the bot, the broker, the orchestrator and its clients — whoever
/// spends it. On a machine the work keeps busy, jobs per second are its cores divided by this.
enum MachineCPU {
    /// Busy time so far, summed over the cores: user, nice, system, interrupts (not idle, not I/O
    /// wait, not time the hypervisor gave to other machines). Zero when `/proc/stat` cannot be read.
    static func busy() -> Duration {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let total = stat.split(separator: "\n").first, total.hasPrefix("cpu ")
        else { return .zero }
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is within user)
        let ticks = total.split(separator: " ").dropFirst().compactMap { Int64($0) }
        guard ticks.count >= 7 else { return .zero }
        return CPUTime.duration(clockTicks: ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6])
    }

    /// Runs `work`, which does `jobs` jobs, and returns its result with the machine's CPU a job.
    static func perJob<Result>(of jobs: Int, _ work: () async throws -> Result) async rethrows
        -> (result: Result, cpuPerJob: Duration) {
        let before = busy()
        let result = try await work()
        return (result, (busy() - before) / jobs)
    }
}
