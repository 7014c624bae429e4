import Foundation
import TestSupport
import Testing

@testable import Worker

@Suite("Timeout budget")
struct TimeoutBudgetTests {
    let start = ContinuousClock.now

    @Test("the clock counts running time only: time spent paused is not used up")
    func pausedTimeNotCounted() {
        var budget = TimeoutBudget(limit: .seconds(10), startedAt: start)
        #expect(budget.remaining(at: start + .seconds(4)) == .seconds(6))
        budget.pause(at: start + .seconds(4))
        #expect(budget.isPaused && budget.remaining(at: start + .seconds(100)) == nil)
        budget.resume(at: start + .seconds(100))
        #expect(budget.remaining(at: start + .seconds(103)) == .seconds(3))
        #expect(budget.remaining(at: start + .seconds(106))! <= .zero)
    }

    @Test("a second pause or resume changes nothing")
    func idempotent() {
        var budget = TimeoutBudget(limit: .seconds(10), startedAt: start)
        budget.pause(at: start + .seconds(2))
        budget.pause(at: start + .seconds(5))
        budget.resume(at: start + .seconds(7))
        budget.resume(at: start + .seconds(9))
        #expect(budget.used == .seconds(2))
        #expect(budget.remaining(at: start + .seconds(9)) == .seconds(6))
    }

    @Test("paused time is capped over the whole run: the pauses add up, and past the cap the bot must be resumed")
    func pauseCap() {
        var budget = TimeoutBudget(limit: .seconds(10), pauseLimit: .seconds(60), startedAt: start)
        #expect(budget.pauseLeft(at: start + .seconds(1)) == nil, "running: no pause deadline")
        budget.pause(at: start + .seconds(1))
        #expect(budget.pauseLeft(at: start + .seconds(41)) == .seconds(20))
        budget.resume(at: start + .seconds(41))
        #expect(budget.pauseLeft(at: start + .seconds(50)) == nil)
        budget.pause(at: start + .seconds(42))
        #expect(budget.pauseLeft(at: start + .seconds(52)) == .seconds(10))
        #expect(budget.pauseLeft(at: start + .seconds(62))! <= .zero)
        // Running time is untouched by the pauses: 1 s + 1 s used.
        budget.resume(at: start + .seconds(62))
        #expect(budget.remaining(at: start + .seconds(62)) == .seconds(8))
        #expect(budget.pausedUsed == .seconds(60))
    }

    @Test("without a cap a pause has no deadline")
    func noPauseCap() {
        var budget = TimeoutBudget(limit: .seconds(10), startedAt: start)
        budget.pause(at: start)
        #expect(budget.pauseLeft(at: start + .seconds(1_000_000)) == nil)
    }
}

@Suite("Stop sequence")
struct StopSequenceTests {
    @Test("a cancel or a shutdown creates the stop file, continues the group and gives the bot its grace before SIGTERM, then SIGKILL",
          arguments: [RunControl.StopReason.cancelled, .shutdown])
    func polite(reason: RunControl.StopReason) {
        #expect(StopSequence.steps(for: reason, stopGrace: .seconds(10), terminationGrace: .seconds(2)) == [
            .createStopFile, .continueGroup, .wait(.seconds(10)), .signal(SIGTERM), .wait(.seconds(2)),
            .signal(SIGKILL),
        ])
    }

    @Test("a timeout, a superseded copy or a run whose delivery went back (failed channel) is terminated at once, after the stop file",
          arguments: [RunControl.StopReason.timedOut, .superseded, .handedBack])
    func immediate(reason: RunControl.StopReason) {
        #expect(StopSequence.steps(for: reason, stopGrace: .seconds(10), terminationGrace: .seconds(2)) == [
            .createStopFile, .continueGroup, .signal(SIGTERM), .wait(.seconds(2)), .signal(SIGKILL),
        ])
    }

    @Test("only a cancel and the worker's shutdown are polite; a handed-back run is not, whatever its grace")
    func politeReasons() {
        #expect(StopSequence.isPolite(.cancelled) && StopSequence.isPolite(.shutdown))
        #expect(!StopSequence.isPolite(.handedBack) && !StopSequence.isPolite(.superseded)
            && !StopSequence.isPolite(.timedOut))
        #expect(!StopSequence.steps(for: .handedBack, stopGrace: .seconds(3600), terminationGrace: .seconds(2))
            .contains(.wait(.seconds(3600))))
        #expect(RunControl.StopReason.handedBack.handsJobBack && RunControl.StopReason.shutdown.handsJobBack)
        #expect(!RunControl.StopReason.cancelled.handsJobBack)
    }

    @Test("a grace of zero goes straight to SIGTERM")
    func noGrace() {
        #expect(!StopSequence.steps(for: .cancelled, stopGrace: .zero, terminationGrace: .seconds(2))
            .contains(.wait(.zero)))
    }
}

@Suite("Cleanup trigger")
struct CleanupTriggerTests {
    @Test("a run that was stopped, or killed by a signal, owes its account a cleanup")
    func needed() {
        for reason in [RunControl.StopReason.timedOut, .cancelled, .superseded, .shutdown, .handedBack] {
            #expect(CleanupTrigger.isNeeded(stopReason: reason, termination: .exited(0)))
        }
        #expect(CleanupTrigger.isNeeded(stopReason: nil, termination: .signalled(SIGKILL)))
    }

    @Test("a bot that exits on its own (success, failure, business exception) owes none")
    func notNeeded() {
        for code: Int32 in [0, 1, 3] { #expect(!CleanupTrigger.isNeeded(stopReason: nil, termination: .exited(code))) }
    }
}

@Suite("Run control")
struct RunControlTests {
    @Test("a paused run does not time out; resumed, it times out when its running time is used up")
    func pausedRunDoesNotTimeOut() async throws {
        let control = RunControl()
        let process = try BotProcess.spawn(argv: ["/bin/sleep", "30"], environment: [:], workingDirectory: nil,
                                           logPath: "/dev/null")
        control.attach(process, timeout: .milliseconds(300))
        #expect(control.pause())
        let waiting = Task { await control.waitForExitOrStop() }
        try await Task.sleep(for: .milliseconds(800))
        #expect(control.stopReason == nil, "timed out while paused")
        let resumedAt = ContinuousClock.now
        #expect(control.resume())
        #expect(await waiting.value == .stop(.timedOut))
        // 300 ms of running time were left; the margin covers a 2-core machine running the whole suite at once.
        #expect(ContinuousClock.now - resumedAt < .seconds(2))
        process.signalGroup(SIGKILL)
        _ = await process.waitForExit()
    }

    @Test("an exited bot stays unreaped until its run is finished and its group killed: a finished run refuses pause and resume")
    func finishedRunSignalsNothing() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-control-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let childFile = folder.appendingPathComponent("child").path
        let control = RunControl()
        // Leaves a child behind in its process group, and exits.
        let process = try BotProcess.spawn(argv: ["/bin/sh", "-c", "sleep 60 & echo $! > \"$0\"", childFile],
                                           environment: [:], workingDirectory: nil, logPath: "/dev/null")
        control.attach(process, timeout: .seconds(30))
        #expect(await process.waitUntilExited() == .exited(0))
        // A zombie: its pid, the id of its group, cannot be given to another process yet.
        #expect(Self.state(of: process.pid) == "Z")
        let child = try #require(pid_t(try String(contentsOfFile: childFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(control.finish() == nil)
        #expect(!control.pause() && !control.resume())
        #expect(Self.state(of: child) != "T", "a pause after the end reached the group")
        process.signalGroup(SIGKILL)
        process.reap()
        #expect(Self.state(of: process.pid) == nil)
        try await Task.sleep(for: .milliseconds(200))
        #expect(!isRunning(child), "the bot's child \(child) survived")
    }

    /// The state letter of a process (`Z` zombie, `T` stopped); nil when it is gone.
    static func state(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    @Test("a bot paused past its pause limit is resumed by the worker, which says so; its timeout then runs again")
    func pauseLimitResumes() async throws {
        let control = RunControl()
        let process = try BotProcess.spawn(argv: ["/bin/sleep", "30"], environment: [:], workingDirectory: nil,
                                           logPath: "/dev/null")
        control.attach(process, timeout: .seconds(2), pauseLimit: .milliseconds(400))
        // Taken before the pause: the pause limit runs from the pause itself.
        let pausedAt = ContinuousClock.now
        #expect(control.pause())
        let told = Locked(0)
        let waiting = Task { await control.waitForExitOrStop(onPauseLimit: { told.withLock { $0 += 1 } }) }
        while control.isPaused && ContinuousClock.now - pausedAt < .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!control.isPaused)
        #expect(ContinuousClock.now - pausedAt >= .milliseconds(400))
        #expect(told.withLock { $0 } == 1)
        try await Task.sleep(for: .milliseconds(100))
        #expect(RunControlTests.state(of: process.pid) != "T", "still frozen after the pause limit")
        #expect(await waiting.value == .stop(.timedOut))
        process.signalGroup(SIGKILL)
        _ = await process.waitForExit()
    }

    @Test("the bot's exit, told by the exit watcher, ends the runner's wait; a cancelled runner waits on until then")
    func exitEndsTheWait() async throws {
        let control = RunControl()
        let process = try BotProcess.spawn(argv: ["/bin/sleep", "30"], environment: [:], workingDirectory: nil,
                                           logPath: "/dev/null")
        control.attach(process, timeout: .seconds(60))
        ChildExitWatcher.shared.watch(process.pid) { control.exited($0) }
        let returned = Locked(false)
        let waiting = Task {
            let turn = await control.waitForExitOrStop()
            returned.withLock { $0 = true }
            return turn
        }
        waiting.cancel()
        try await Task.sleep(for: .milliseconds(300))
        #expect(!returned.withLock { $0 }, "the wait ended with its task's cancellation")
        process.signalGroup(SIGKILL)
        #expect(await waiting.value == .exited(.signalled(SIGKILL)))
        #expect(control.exitStatus == .signalled(SIGKILL))
        process.reap()
    }

    @Test("a stopped run can be neither paused nor resumed")
    func stoppedRun() {
        let control = RunControl()
        control.stop(.cancelled)
        #expect(!control.pause() && !control.resume())
    }
}
