import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What tells a process apart from any other that ever had its pid, also after a reboot: the boot
/// it started in, and when in that boot it started, in clock ticks (field 22 of `/proc/<pid>/stat`).
///
/// A bot's identity is taken from the clock around its spawn (``BotProcess``): the kernel stamps a new
/// process's start from the same boot clock, so it lies between the ticks read before and after, and
/// a bot's start costs no `/proc` read (an `open`, a `read` and a `close`: 4 % of a busy worker's CPU).
struct ProcessIdentity: Sendable, Equatable {
    var boot: String
    /// The ticks after boot within which the process started: one when read from `/proc`.
    var startTicks: ClosedRange<UInt64>

    /// A record's line: `<boot> <tick>`, or `<boot> <first tick> <last tick>` for a range.
    var line: String {
        startTicks.lowerBound == startTicks.upperBound ? "\(boot) \(startTicks.lowerBound)"
            : "\(boot) \(startTicks.lowerBound) \(startTicks.upperBound)"
    }

    init(boot: String, startTicks: ClosedRange<UInt64>) {
        self.boot = boot
        self.startTicks = startTicks
    }

    /// Reads a record's line (``line``); nil when it is not one.
    init?(line: some StringProtocol) {
        let fields = line.split(separator: " ")
        guard fields.count == 2 || fields.count == 3, let first = UInt64(fields[1]),
              let last = fields.count == 3 ? UInt64(fields[2]) : first, first <= last
        else { return nil }
        self.init(boot: String(fields[0]), startTicks: first...last)
    }

    /// The identity of `pid` now, read from `/proc`; nil when no such process runs.
    static func of(_ pid: pid_t) -> ProcessIdentity? {
        guard let boot = bootID, let started = startTime(of: pid) else { return nil }
        return ProcessIdentity(boot: boot, startTicks: started...started)
    }

    /// Whether `pid` is still this process, not another that has its pid now (or none).
    func isProcess(_ pid: pid_t) -> Bool {
        guard boot == Self.bootID, let started = Self.startTime(of: pid) else { return false }
        return startTicks.contains(started)
    }

    /// The boot clock now, in the ticks `/proc` counts a process's start in (`CLOCK_BOOTTIME`, whole
    /// ticks of `_SC_CLK_TCK`, rounded down as the kernel rounds).
    static func ticksSinceBoot() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        let nanoseconds = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        return nanoseconds / (1_000_000_000 / ticksPerSecond)
    }

    private static let ticksPerSecond = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))

    /// This boot's id (`/proc/sys/kernel/random/boot_id`).
    static let bootID: String? = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot when the process started.
    ///
    /// Read with one `read` into a buffer: `String(contentsOfFile:)` reads a `/proc` file (whose
    /// size shows as 0) in a loop of growing buffers, about 80 µs a call here against 20.
    static func startTime(of pid: pid_t) -> UInt64? {
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // The line is about 300 bytes: the pid, a command name of at most 16 bytes, then numbers.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer in
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            guard count > 0 else { return nil }
            let stat = buffer[..<count]
            // The command name in parentheses may hold spaces and parentheses; fields after it are plain.
            guard let nameEnd = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            let fields = stat[(nameEnd + 1)...].split(separator: UInt8(ascii: " "), maxSplits: 20)
            return fields.count > 19 ? UInt64(String(decoding: fields[19], as: UTF8.self)) : nil
        }
    }
}
