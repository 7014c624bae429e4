import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Remembers the bots running on each account in files, so that a worker taking over an account
/// can stop what a dead predecessor left running before it starts anything there.
///
/// Bots lead their own process groups, so they outlive a worker killed with SIGKILL. A record
/// holds the bot's pid, the boot it started in and its start time in that boot, so that a
/// recycled pid — also after a reboot — is never taken for the bot.
struct OrphanReaper: Sendable {
    /// `<work directory>/accounts/<host>`: workers that may take over each other's accounts on a
    /// host share their work directory; the host keeps apart the accounts of two hosts that do.
    let directory: URL

    init(workDirectory: URL, host: String) {
        directory = workDirectory.appendingPathComponent("accounts/\(host)", isDirectory: true)
    }

    func record(pid: pid_t, account: String) {
        guard let started = Self.identity(of: pid) else { return }
        let folder = runsFolder(account)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder.appendingPathComponent(String(pid)).path,
                                       contents: Data(started.utf8))
    }

    func forget(pid: pid_t, account: String) {
        try? FileManager.default.removeItem(at: runsFolder(account).appendingPathComponent(String(pid)))
    }

    /// Kills the process groups of bots recorded on `account` that still run; returns their pids.
    func reap(account: String) -> [pid_t] {
        let folder = runsFolder(account)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var reaped: [pid_t] = []
        for name in names {
            let file = folder.appendingPathComponent(name)
            defer { try? FileManager.default.removeItem(at: file) }
            guard let pid = pid_t(name), pid > 1,
                  let recorded = try? String(contentsOf: file, encoding: .utf8),
                  Self.identity(of: pid) == recorded
            else { continue }
            kill(-pid, SIGKILL)
            reaped.append(pid)
        }
        return reaped
    }

    private func runsFolder(_ account: String) -> URL {
        directory.appendingPathComponent("\(account)/running", isDirectory: true)
    }

    /// What tells this process apart from any other that ever had its pid: the boot's id and
    /// the process's start time in it.
    static func identity(of pid: pid_t) -> String? {
        guard let boot = bootID, let started = startTime(of: pid) else { return nil }
        return "\(boot) \(started)"
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`).
    static let bootID: String? = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot when the process started.
    static func startTime(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // The command name in parentheses may hold spaces; fields after it are plain.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
