import Foundation
import Shared

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

    /// A bot found in the records of an account that is being taken over.
    struct Orphan: Sendable, Equatable {
        var pid: pid_t
        /// It still ran, and was killed with its process group.
        var killed: Bool
        /// The cleanup its run owes the account (its worker died before running it).
        var cleanup: PendingCleanup?
    }

    /// Records a running bot: line 1 its identity, line 2 (if any) the cleanup its account owes should
    /// the run be stopped or its worker die.
    func record(pid: pid_t, account: String, cleanup: PendingCleanup? = nil) {
        guard let started = Self.identity(of: pid) else { return }
        let folder = runsFolder(account)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var text = started
        if let cleanup, let json = try? JSONCodec.encode(cleanup) { text += "\n" + String(decoding: json, as: UTF8.self) }
        FileManager.default.createFile(atPath: folder.appendingPathComponent(String(pid)).path,
                                       contents: Data(text.utf8))
    }

    func forget(pid: pid_t, account: String) {
        try? FileManager.default.removeItem(at: runsFolder(account).appendingPathComponent(String(pid)))
    }

    /// Kills the process groups of bots recorded on `account` that still run, and forgets every record.
    ///
    /// - Returns: the bots killed, and those (killed or already gone) whose run owes the account a cleanup.
    func reap(account: String) -> [Orphan] {
        let folder = runsFolder(account)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var reaped: [Orphan] = []
        for name in names {
            let file = folder.appendingPathComponent(name)
            defer { try? FileManager.default.removeItem(at: file) }
            guard let pid = pid_t(name), pid > 1, let recorded = try? String(contentsOf: file, encoding: .utf8)
            else { continue }
            let lines = recorded.split(separator: "\n", maxSplits: 1).map(String.init)
            let cleanup = lines.count > 1 ? try? JSONCodec.decode(PendingCleanup.self, from: Data(lines[1].utf8)) : nil
            let alive = Self.identity(of: pid) == lines.first
            if alive { kill(-pid, SIGKILL) }
            if alive || cleanup != nil { reaped.append(Orphan(pid: pid, killed: alive, cleanup: cleanup)) }
        }
        return reaped.sorted { $0.pid < $1.pid }
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
