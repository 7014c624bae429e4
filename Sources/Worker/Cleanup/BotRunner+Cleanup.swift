import Foundation
import Shared

#if canImport(Glibc)
import Glibc
#endif

extension BotRunner {
    /// Runs an account's cleanup command after a stopped or crashed run, like a bot — argv, no shell, its
    /// own process group, output into a log — for at most ``cleanupTimeout``.
    ///
    /// It sees the worker's inherited variables and `BOTYARD_ACCOUNT`, `BOTYARD_JOB_ID`, `BOTYARD_ATTEMPT`,
    /// `BOTYARD_BOT` and `BOTYARD_CLEANUP_REASON` (why the run ended).
    ///
    /// - Returns: the cleanup's outcome: `succeeded` on exit code 0, else `failed`, `timedOut` or
    ///   `failedToStart`, with its log.
    /// - Parameter run: the pid under which the run that owes the cleanup is recorded (``OrphanReaper``): the
    ///   cleanup's own process is added to that record.
    func runCleanup(_ cleanup: PendingCleanup, account: String, why: String, run: pid_t? = nil) async -> JobOutcome {
        let directory = workDirectory.appendingPathComponent(
            "cleanups/\(cleanup.jobID)-attempt-\(cleanup.attempt)-\(cleanup.runID.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logPath = directory.appendingPathComponent("log").path
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Int { Int((clock.now - start) / .milliseconds(1)) }

        var environment = inheritedEnvironment
        environment["BOTYARD_ACCOUNT"] = account
        environment["BOTYARD_JOB_ID"] = String(cleanup.jobID)
        environment["BOTYARD_ATTEMPT"] = String(cleanup.attempt)
        environment["BOTYARD_BOT"] = cleanup.bot
        environment["BOTYARD_CLEANUP_REASON"] = why
        let process: BotProcess
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            process = try BotProcess.spawn(argv: cleanup.argv, environment: environment, workingDirectory: nil,
                                           logPath: logPath)
        } catch {
            return JobOutcome(result: .failedToStart, reason: "\(error)", durationMilliseconds: elapsed())
        }
        if let run { orphans.recordCleanup(process, run: run, account: account) }
        // The cleanup's exit, and whether its timer had to stop it.
        let (termination, timedOut) = await withTaskGroup(of: (BotProcess.Termination?, Bool).self) { group in
            // Not reaped until its group is killed and the timer has ended (see ``BotRunner/run``).
            group.addTask { (await process.waitUntilExited(), false) }
            group.addTask {
                try? await Task.sleep(for: cleanupTimeout)
                guard !Task.isCancelled else { return (nil, false) }
                process.signalGroup(SIGTERM)
                try? await Task.sleep(for: terminationGrace)
                if !Task.isCancelled { process.signalGroup(SIGKILL) }
                return (nil, true)
            }
            var termination: BotProcess.Termination?
            var timedOut = false
            for await (exit, fired) in group {
                timedOut = timedOut || fired
                if let exit {
                    termination = exit
                    group.cancelAll()
                }
            }
            return (termination!, timedOut)
        }
        process.signalGroup(SIGKILL)
        process.reap()

        var outcome = JobOutcome(result: .failed, reason: "",
                                 log: Self.tail(ofFile: logPath, maximumBytes: JobOutcome.maximumLogBytes),
                                 durationMilliseconds: elapsed())
        switch termination {
        case .exited(let code): outcome.exitCode = code
        case .signalled(let signal): outcome.signal = signal
        }
        switch (timedOut, termination) {
        case (true, _):
            outcome.result = .timedOut
            outcome.reason = "timed out after \(Int(cleanupTimeout.seconds.rounded())) s"
        case (false, .exited(0)):
            outcome.result = .succeeded
            outcome.reason = "exit code 0"
        case (false, .exited(let code)):
            outcome.reason = "exit code \(code)"
        case (false, .signalled(let signal)):
            outcome.reason = "killed by signal \(signal)"
        }
        return outcome
    }
}
