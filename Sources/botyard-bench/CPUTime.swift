import Foundation

/// User + system CPU time of a process, from the kernel's accounting.
enum CPUTime {
    /// This process, every thread.
    static func ofThisProcess() -> Duration {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }

    /// Another process, from `/proc/<pid>/stat` (clock ticks: 10 ms steps); zero if it is gone.
    static func of(process: Int32) -> Duration {
        guard let stat = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
              let afterName = stat.range(of: ") ", options: .backwards)
        else { return .zero }
        // After the name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return .zero }
        return duration(clockTicks: user + system)
    }

    /// Kernel clock ticks (`/proc`'s unit) as a duration.
    static func duration(clockTicks: Int64) -> Duration {
        .milliseconds(clockTicks * 1000 / Int64(sysconf(Int32(_SC_CLK_TCK))))
    }

    private static func duration(_ time: timeval) -> Duration {
        .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec))
    }
}

/// The 1-minute load average, as `uptime` shows it: how busy the shared machine was.
func loadAverage() -> String {
    var loads = [Double](repeating: 0, count: 3)
    guard getloadavg(&loads, 3) == 3 else { return "?" }
    return String(format: "%.2f", loads[0])
}
