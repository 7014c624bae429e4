import Foundation
import Shared

#if canImport(Glibc)
import Glibc
#endif

/// Remembers the bots running on each account in files, so that a worker taking over an account
/// can stop what a dead predecessor left running before it starts anything there.
///
/// Bots lead their own process groups, so they outlive a worker killed with SIGKILL. A record,
/// named by the bot's pid, holds the boot it started in and its start time in that boot
/// (``ProcessIdentity``), so that a recycled pid — also after a reboot — is never taken for the
/// bot. A run that owes its account a cleanup keeps its record until that cleanup has run, with the
/// cleanup's own process once it runs, so that a cleanup is neither lost nor run twice at once when
/// its worker dies during it.
struct OrphanReaper: Sendable {
    /// `<work directory>/accounts/<host>`: workers that may take over each other's accounts on a
    /// host share their work directory; the host keeps apart the accounts of two hosts that do.
    /// A path, not a `URL`: a bot's start and end build paths in it, and `URL`'s appending is slow.
    let directory: String
    /// Blanked records, reused for the next runs' records.
    private let spares = SpareRecords()

    init(workDirectory: URL, host: String) {
        directory = workDirectory.appendingPathComponent("accounts/\(host)", isDirectory: true).path
    }

    /// A bot found in the records of an account that is being taken over.
    struct Orphan: Sendable, Equatable {
        var pid: pid_t
        /// It still ran, and was killed with its process group.
        var killed: Bool
        /// The cleanup its run owes the account (its worker died, or the account was held, before it ran).
        var cleanup: PendingCleanup?
        /// The pid of that cleanup, which still ran when its worker died and was killed with its group.
        var killedCleanup: pid_t? = nil
    }

    /// Records a running bot: line 1 its identity (``ProcessIdentity/line``), line 2 (if any) the cleanup
    /// its account owes should the run be stopped or its worker die; a blank line ends the record
    /// (``lines(ofRecord:)``).
    ///
    /// A record has to outlive its worker's process, not the machine (no bot survives a power loss
    /// either): it is written in place with one `write`, not synced to disk through a temporary
    /// file as `FileManager.createFile` does, which cost a bot's start more than the spawn. Its file
    /// is a blanked record of an earlier run renamed (``SpareRecords``), or new when none is kept;
    /// what an earlier, longer record left after the blank line is never read.
    func record(_ bot: BotProcess, account: String, cleanup: PendingCleanup? = nil) {
        guard let identity = bot.identity ?? ProcessIdentity.of(bot.pid) else { return }
        let folder = runsFolder(account)
        var text = identity.line
        if let cleanup, let json = try? JSONCodec.encode(cleanup) { text += "\n" + String(decoding: json, as: UTF8.self) }
        let name = String(bot.pid)
        let path = "\(folder)/\(name)"
        if let spare = spares.take(account: account, preferring: name), spare != name {
            // A spare that is gone (deleted by hand) leaves the record to be created below.
            _ = rename("\(folder)/\(spare)", path)
        }
        // Not `O_TRUNC`: ext4 writes back on `close` a file that was truncated to nothing and written
        // again (its `auto_da_alloc`), a disk write and about 100 µs of CPU for every bot.
        var descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0 && errno == ENOENT {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        }
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        Self.write(text + "\n\n", at: 0, to: descriptor)
    }

    /// Adds the process of the cleanup that the run recorded as `run` owes to its record: a worker taking the
    /// account over while it runs kills it before it runs the cleanup again.
    func recordCleanup(_ cleaner: BotProcess, run: pid_t, account: String) {
        let file = "\(runsFolder(account))/\(run)"
        guard let identity = cleaner.identity ?? ProcessIdentity.of(cleaner.pid),
              let recorded = Self.readRecord(file) else { return }
        let lines = Self.lines(ofRecord: recorded).prefix(2)
        let text = lines.joined(separator: "\n") + "\ncleanup \(cleaner.pid) \(identity.line)\n\n"
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    /// Drops the record of a run: it owes nothing (any more). The record is blanked (its first line
    /// made empty, in one byte) and kept under its name as a spare: a blank record names no bot and
    /// owes nothing, whoever reads it.
    ///
    /// Not truncated: see ``record(_:account:cleanup:)``.
    func forget(pid: pid_t, account: String) {
        let name = String(pid)
        let path = "\(runsFolder(account))/\(name)"
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        let blanked = descriptor >= 0 && Self.write("\n", at: 0, to: descriptor)
        if descriptor >= 0 { close(descriptor) }
        guard blanked else {
            unlink(path)
            return
        }
        spares.keep(name, account: account)
    }

    /// A record's text. Leniently decoded: what a longer record left behind its blank line may begin
    /// in the middle of a character, and must not make the record unreadable.
    private static func readRecord(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The lines of a record up to its first blank line: none for a blank (or empty) record. Records
    /// of earlier versions had no blank line and were emptied instead of blanked; they read the same.
    static func lines(ofRecord text: String) -> [String] {
        Array(text.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty }.map(String.init))
    }

    /// Writes all of `text` at `offset` with one `pwrite`; whether it did.
    @discardableResult
    private static func write(_ text: String, at offset: off_t, to descriptor: Int32) -> Bool {
        var text = text
        return text.withUTF8 { pwrite(descriptor, $0.baseAddress, $0.count, offset) == $0.count }
    }

    /// Kills the process groups of bots recorded on `account` that still run, and of cleanups recorded there
    /// that still run; forgets the records of runs that owe no cleanup. A record that owes one stays until
    /// ``forget(pid:account:)`` after its cleanup has run.
    ///
    /// - Returns: the bots killed, and those (killed or already gone) whose run owes the account a cleanup.
    func reap(account: String) -> [Orphan] {
        let folder = runsFolder(account)
        // Every file that is not a record goes, this process's spares too.
        spares.drop(account: account)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var reaped: [Orphan] = []
        for name in names {
            let file = "\(folder)/\(name)"
            guard let pid = pid_t(name), pid > 1, let recorded = Self.readRecord(file) else {
                try? FileManager.default.removeItem(atPath: file)
                continue
            }
            let lines = Self.lines(ofRecord: recorded)
            let cleanup = lines.count > 1 ? try? JSONCodec.decode(PendingCleanup.self, from: Data(lines[1].utf8)) : nil
            let alive = lines.first.flatMap { ProcessIdentity(line: $0) }?.isProcess(pid) ?? false
            if alive { kill(-pid, SIGKILL) }
            var killedCleanup: pid_t?
            if lines.count > 2 {
                let fields = lines[2].split(separator: " ", maxSplits: 2).map(String.init)
                if fields.count == 3, fields[0] == "cleanup", let cleaner = pid_t(fields[1]), cleaner > 1,
                   ProcessIdentity(line: fields[2])?.isProcess(cleaner) == true {
                    kill(-cleaner, SIGKILL)
                    killedCleanup = cleaner
                }
            }
            if cleanup == nil { try? FileManager.default.removeItem(atPath: file) }
            if alive || cleanup != nil {
                reaped.append(Orphan(pid: pid, killed: alive, cleanup: cleanup, killedCleanup: killedCleanup))
            }
        }
        return reaped.sorted { $0.pid < $1.pid }
    }

    /// Runs the cleanups that `orphans` owe, oldest record first, and forgets each record once its own cleanup
    /// has run. Stops at the first that fails (`run` holds the account): the records after it stay, to run
    /// after the hold is cleared.
    ///
    /// - Returns: false when one failed.
    func runOwedCleanups(_ orphans: [Orphan], account: String,
                         run: (Orphan, PendingCleanup) async -> Bool) async -> Bool {
        for orphan in orphans {
            guard let cleanup = orphan.cleanup else { continue }
            let succeeded = await run(orphan, cleanup)
            // A failed cleanup is not run again: the account's hold stands for it until an operator clears it.
            forget(pid: orphan.pid, account: account)
            guard succeeded else { return false }
        }
        return true
    }

    private func runsFolder(_ account: String) -> String {
        "\(directory)/\(account)/running"
    }
}
