import Foundation
import Shared
import TestSupport
import Testing

@testable import Worker

@Suite("Orphaned bots")
struct OrphanReaperTests {
    /// A bot process (leading its own group) that sleeps.
    func sleeper(in folder: URL) throws -> BotProcess {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try BotProcess.spawn(argv: ["/bin/sleep", "60"], environment: [:], workingDirectory: nil,
                                    logPath: folder.appendingPathComponent("log-\(UUID().uuidString)").path)
    }

    func withReaper(_ body: (OrphanReaper, URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-reaper-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(OrphanReaper(workDirectory: folder, host: "h1"), folder)
    }

    @Test("a bot recorded on an account is killed with its process group when the account is taken over")
    func reapsRecordedBot() async throws {
        try await withReaper { reaper, folder in
            let bot = try sleeper(in: folder)
            reaper.record(bot, account: "a")
            #expect(reaper.reap(account: "b").isEmpty)
            #expect(reaper.reap(account: "a") == [.init(pid: bot.pid, killed: true, cleanup: nil)])
            #expect(await bot.waitForExit() == .signalled(SIGKILL))
            #expect(reaper.reap(account: "a").isEmpty)
        }
    }

    @Test("a process's start time is field 22 of its /proc stat line, also when its command name holds spaces and parentheses; a pid that is gone has none")
    func startTimeOfOddlyNamedProcess() async throws {
        try await withReaper { _, folder in
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let oddName = folder.appendingPathComponent("a) b (c) d").path
            try FileManager.default.createSymbolicLink(atPath: oddName, withDestinationPath: "/bin/sleep")
            let bot = try BotProcess.spawn(argv: [oddName, "60"], environment: [:], workingDirectory: nil,
                                           logPath: folder.appendingPathComponent("log").path)
            let stat = try String(contentsOfFile: "/proc/\(bot.pid)/stat", encoding: .utf8)
            #expect(stat.contains("(a) b (c) d)"), "\(stat)")
            // The fields after the last ") ", read here the slow way.
            let expected = try #require(stat.split(separator: ") ").last?.split(separator: " ")[19])
            #expect(ProcessIdentity.startTime(of: bot.pid) == UInt64(expected))
            #expect(ProcessIdentity.startTime(of: getpid()) != ProcessIdentity.startTime(of: bot.pid))
            kill(-bot.pid, SIGKILL)
            _ = await bot.waitForExit()
            #expect(ProcessIdentity.startTime(of: bot.pid) == nil)
        }
    }

    @Test("a record whose pid now belongs to another process (other start, other boot) kills nothing")
    func recycledPidIsSpared() async throws {
        try await withReaper { reaper, folder in
            let other = try sleeper(in: folder)
            let identity = try #require(ProcessIdentity.of(other.pid)?.line)
            for (account, recorded) in [("a", "another-boot " + identity.split(separator: " ")[1]), ("b", identity + "0")] {
                try leave(Array(recorded.utf8), for: other.pid, account: account, in: folder)
                #expect(reaper.reap(account: account).isEmpty)
            }
            #expect(isRunning(other.pid))
            kill(-other.pid, SIGKILL)
            _ = await other.waitForExit()
        }
    }

    @Test("an ended run's record is blanked in place and kept as a spare, and becomes the next run's record: no file is created for it; a takeover deletes spares")
    func recordsAreReused() async throws {
        try await withReaper { reaper, folder in
            let running = folder.appendingPathComponent("accounts/h1/a/running")
            let first = try sleeper(in: folder)
            reaper.record(first, account: "a")
            let inode = try #require(try inodes(in: running)["\(first.pid)"])
            reaper.forget(pid: first.pid, account: "a")
            #expect(try inodes(in: running) == ["\(first.pid)": inode])
            let blanked = try String(contentsOf: running.appendingPathComponent("\(first.pid)"), encoding: .utf8)
            #expect(blanked.hasPrefix("\n") && OrphanReaper.lines(ofRecord: blanked).isEmpty)

            let second = try sleeper(in: folder)
            reaper.record(second, account: "a")
            #expect(try inodes(in: running) == ["\(second.pid)": inode])
            reaper.forget(pid: second.pid, account: "a")
            #expect(reaper.reap(account: "a").isEmpty)
            #expect(try inodes(in: running).isEmpty)
            // With no spare left, a record is created.
            reaper.record(second, account: "a")
            #expect(try inodes(in: running).keys.sorted() == ["\(second.pid)"])
            for bot in [first, second] {
                kill(-bot.pid, SIGKILL)
                _ = await bot.waitForExit()
            }
        }
    }

    @Test("a run whose pid names a spare takes that very spare, and no later run renames its record away")
    func reusedPidTakesItsOwnSpare() async throws {
        try await withReaper { reaper, folder in
            let running = folder.appendingPathComponent("accounts/h1/a/running")
            let (first, second, third) = (try sleeper(in: folder), try sleeper(in: folder), try sleeper(in: folder))
            reaper.record(first, account: "a")
            reaper.record(second, account: "a")
            reaper.forget(pid: first.pid, account: "a")
            reaper.forget(pid: second.pid, account: "a")
            reaper.forget(pid: first.pid, account: "a")
            let spares = try inodes(in: running)
            // A new run given the pid of the first (the kernel recycles pids): recorded in its own spare.
            let recycled = BotProcess(pid: first.pid, identity: third.identity)
            reaper.record(recycled, account: "a")
            #expect(try inodes(in: running) == spares)
            // The next run takes the other spare; kept twice, it is still one spare, and the record stays.
            reaper.record(third, account: "a")
            let expected = ["\(first.pid)": spares["\(first.pid)"], "\(third.pid)": spares["\(second.pid)"]]
            #expect(try inodes(in: running) == expected.compactMapValues { $0 })
            let recorded = try String(contentsOf: running.appendingPathComponent("\(first.pid)"), encoding: .utf8)
            #expect(OrphanReaper.lines(ofRecord: recorded) == [try #require(third.identity).line])
            for bot in [first, second, third] {
                kill(-bot.pid, SIGKILL)
                _ = await bot.waitForExit()
            }
        }
    }

    @Test("a bot's start, bracketed by the boot clock around its spawn, holds the start time /proc gives it")
    func identityFromSpawn() async throws {
        try await withReaper { _, folder in
            for _ in 0..<20 {
                let bot = try sleeper(in: folder)
                let identity = try #require(bot.identity)
                let started = try #require(ProcessIdentity.startTime(of: bot.pid))
                #expect(identity.startTicks.contains(started) && identity.isProcess(bot.pid), "\(identity) \(started)")
                // A spawn takes a tick or two; on a machine the whole suite loads, the bracket stays under a second.
                #expect(identity.boot == ProcessIdentity.bootID && identity.startTicks.count < 100)
                #expect(ProcessIdentity(line: identity.line) == identity)
                kill(-bot.pid, SIGKILL)
                _ = await bot.waitForExit()
                #expect(!identity.isProcess(bot.pid))
            }
            #expect(ProcessIdentity(line: "b 5 4") == nil && ProcessIdentity(line: "b x") == nil)
            #expect(ProcessIdentity(line: "b 4 5") == ProcessIdentity(boot: "b", startTicks: 4...5))
        }
    }

    /// The files in `folder` and their inodes.
    func inodes(in folder: URL) throws -> [String: UInt64] {
        try Dictionary(uniqueKeysWithValues: FileManager.default.contentsOfDirectory(atPath: folder.path).map {
            var status = stat()
            _ = stat(folder.appendingPathComponent($0).path, &status)
            return ($0, UInt64(status.st_ino))
        })
    }

    /// Writes a record file by hand, as a worker that died left it.
    func leave(_ bytes: [UInt8], for pid: pid_t, account: String, in folder: URL) throws {
        let running = folder.appendingPathComponent("accounts/h1/\(account)/running")
        try FileManager.default.createDirectory(at: running, withIntermediateDirectories: true)
        try Data(bytes).write(to: running.appendingPathComponent(String(pid)))
    }

    @Test("a blanked record names no bot and owes nothing, whatever a longer record left behind its blank line")
    func blankedRecordNamesNothing() async throws {
        try await withReaper { reaper, folder in
            let bot = try sleeper(in: folder)
            let identity = try #require(ProcessIdentity.of(bot.pid)?.line)
            let owed = String(decoding: try JSONCodec.encode(cleanup(1)), as: UTF8.self)
            // A worker that died between blanking a record and renaming it to a spare.
            try leave(Array("\n\(identity.dropFirst())\n\(owed)\n\n".utf8), for: bot.pid, account: "a", in: folder)
            #expect(reaper.reap(account: "a").isEmpty)
            #expect(isRunning(bot.pid))

            // A spare of a longer record (with a cleanup) reused for a run that owes none.
            let first = try sleeper(in: folder)
            reaper.record(first, account: "b", cleanup: cleanup(2))
            reaper.forget(pid: first.pid, account: "b")
            reaper.record(bot, account: "b")
            #expect(reaper.reap(account: "b") == [.init(pid: bot.pid, killed: true, cleanup: nil)])
            #expect(await bot.waitForExit() == .signalled(SIGKILL))
            kill(-first.pid, SIGKILL)
            _ = await first.waitForExit()
            // Blank, and its pid gone: nothing was killed.
            try leave(Array("\n".utf8), for: first.pid, account: "c", in: folder)
            #expect(reaper.reap(account: "c").isEmpty)
        }
    }

    @Test("a record's lines end at its first blank line")
    func recordLines() {
        #expect(OrphanReaper.lines(ofRecord: "b 1\n{\"x\":1}\n\nold\n{\"y\":2}") == ["b 1", "{\"x\":1}"])
        #expect(OrphanReaper.lines(ofRecord: "b 1\n{\"x\":1}\ncleanup 7 b 2") == ["b 1", "{\"x\":1}", "cleanup 7 b 2"])
        #expect(OrphanReaper.lines(ofRecord: "\nb 1\n{\"x\":1}").isEmpty)
        #expect(OrphanReaper.lines(ofRecord: "").isEmpty)
    }

    @Test("a record of an earlier version (no blank line after it), or with bytes behind its blank line that are no text, is read")
    func earlierAndOddRecordsRead() async throws {
        try await withReaper { reaper, folder in
            let old = try sleeper(in: folder)
            try leave(Array(try #require(ProcessIdentity.of(old.pid)?.line).utf8), for: old.pid, account: "a",
                      in: folder)
            let odd = try sleeper(in: folder)
            try leave(Array(try #require(ProcessIdentity.of(odd.pid)?.line).utf8) + [10, 10, 0xE2, 0x82], for: odd.pid,
                      account: "a", in: folder)
            let expected = [old.pid, odd.pid].sorted().map { OrphanReaper.Orphan(pid: $0, killed: true, cleanup: nil) }
            #expect(reaper.reap(account: "a") == expected)
            #expect(await old.waitForExit() == .signalled(SIGKILL))
            #expect(await odd.waitForExit() == .signalled(SIGKILL))
        }
    }

    @Test("a record that owes its account a cleanup is returned with it, whether its bot still ran or not")
    func pendingCleanupReturned() async throws {
        try await withReaper { reaper, folder in
            let cleanup = PendingCleanup(argv: ["/bin/true"], jobID: 4, attempt: 1, envelopeAttempt: 1, runID: "r",
                                         bot: "ui")
            let bot = try sleeper(in: folder)
            reaper.record(bot, account: "a", cleanup: cleanup)
            let gone = try sleeper(in: folder)
            reaper.record(gone, account: "a", cleanup: cleanup)
            kill(-gone.pid, SIGKILL)
            _ = await gone.waitForExit()
            let orphans = reaper.reap(account: "a")
            #expect(Set(orphans.map(\.pid)) == [bot.pid, gone.pid])
            #expect(orphans.first { $0.pid == bot.pid }?.killed == true)
            #expect(orphans.first { $0.pid == gone.pid }?.killed == false)
            #expect(orphans.allSatisfy { $0.cleanup == cleanup })
            _ = await bot.waitForExit()
        }
    }

    func cleanup(_ jobID: Int64) -> PendingCleanup {
        PendingCleanup(argv: ["/bin/true"], jobID: jobID, attempt: 1, envelopeAttempt: 1, runID: "r\(jobID)", bot: "ui")
    }

    @Test("a record that owes a cleanup is kept after the reap until its cleanup has run: a taker that dies meanwhile loses nothing")
    func recordKeptUntilCleanup() async throws {
        try await withReaper { reaper, folder in
            let bot = try sleeper(in: folder)
            reaper.record(bot, account: "a", cleanup: cleanup(1))
            #expect(reaper.reap(account: "a") == [.init(pid: bot.pid, killed: true, cleanup: cleanup(1))])
            _ = await bot.waitForExit()
            // The taker died before running it: the next one finds it again (the bot already gone).
            #expect(reaper.reap(account: "a") == [.init(pid: bot.pid, killed: false, cleanup: cleanup(1))])
            reaper.forget(pid: bot.pid, account: "a")
            #expect(reaper.reap(account: "a").isEmpty)
        }
    }

    @Test("a cleanup left running by a dead worker is killed with its group before the cleanup runs again")
    func leftBehindCleanupKilled() async throws {
        try await withReaper { reaper, folder in
            let bot = try sleeper(in: folder)
            reaper.record(bot, account: "a", cleanup: cleanup(1))
            kill(-bot.pid, SIGKILL)
            _ = await bot.waitForExit()
            let cleaner = try sleeper(in: folder)
            reaper.recordCleanup(cleaner, run: bot.pid, account: "a")
            let orphans = reaper.reap(account: "a")
            #expect(orphans == [.init(pid: bot.pid, killed: false, cleanup: cleanup(1), killedCleanup: cleaner.pid)])
            #expect(await cleaner.waitForExit() == .signalled(SIGKILL))
            // Gone now: not killed again, still owed.
            #expect(reaper.reap(account: "a").map(\.killedCleanup) == [nil])
        }
    }

    @Test("owed cleanups run one by one; the first that fails stops them, and the ones after it stay recorded for after the clear")
    func failureKeepsRemainingCleanups() async throws {
        try await withReaper { reaper, folder in
            var pids: [pid_t] = []
            for jobID: Int64 in 1...3 {
                let bot = try sleeper(in: folder)
                reaper.record(bot, account: "a", cleanup: cleanup(jobID))
                kill(-bot.pid, SIGKILL)
                _ = await bot.waitForExit()
                pids.append(bot.pid)
            }
            let orphans = reaper.reap(account: "a")
            let order = orphans.compactMap(\.cleanup?.jobID)
            let ran = Locked<[Int64]>([])
            let failing = order[1]
            let allRan = await reaper.runOwedCleanups(orphans, account: "a") { _, cleanup in
                ran.withLock { $0.append(cleanup.jobID) }
                return cleanup.jobID != failing
            }
            #expect(!allRan)
            #expect(ran.withLock { $0 } == Array(order.prefix(2)))
            // After the clear: only the one after the failure is left, and it runs.
            let left = reaper.reap(account: "a")
            #expect(left.compactMap(\.cleanup?.jobID) == [order[2]])
            #expect(await reaper.runOwedCleanups(left, account: "a") { _, _ in true })
            #expect(reaper.reap(account: "a").isEmpty)
        }
    }
}
