import Foundation

/// A process's memory as Linux counts it in `/proc/<pid>/status`.
public enum ProcessMemory {
    /// The process's pages resident now (`VmRSS`) and at most so far (`VmHWM`), in KiB; nil when
    /// `/proc` does not say (the process is gone).
    public static func residentKiB(of pid: pid_t = getpid()) -> (now: Int, peak: Int)? {
        guard let status = ProcFile.text("/proc/\(pid)/status") else { return nil }
        func kibibytes(_ field: String) -> Int? {
            status.split(separator: "\n").first { $0.hasPrefix(field) }?
                .split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        guard let now = kibibytes("VmRSS:"), let peak = kibibytes("VmHWM:") else { return nil }
        return (now, peak)
    }
}
