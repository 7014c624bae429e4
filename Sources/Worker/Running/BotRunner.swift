import Foundation
import Logging
import Shared

/// Runs one attempt of a job as a child process and describes how it ended.
struct BotRunner: Sendable {
    /// Where each attempt gets a folder with its log, output file and stop file.
    var workDirectory: URL
    /// Time between SIGTERM and SIGKILL when a bot is stopped.
    var terminationGrace: Duration
    /// Variables of the worker's own environment passed on to bots.
    var inheritedEnvironment: [String: String]
    /// Records each running bot, for a worker that takes the account over after this one died.
    var orphans: OrphanReaper

    static let inheritedVariables = ["PATH", "HOME", "LANG", "LC_ALL", "USER", "LOGNAME", "TMPDIR", "TZ", "DISPLAY"]

    init(workDirectory: URL, host: String = "local", terminationGrace: Duration,
         environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.workDirectory = workDirectory
        self.terminationGrace = terminationGrace
        self.orphans = OrphanReaper(workDirectory: workDirectory, host: host)
        self.inheritedEnvironment = environment.filter { Self.inheritedVariables.contains($0.key) }
        if inheritedEnvironment["PATH"] == nil { inheritedEnvironment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
    }

    /// The folder of one run.
    func runDirectory(jobID: Int64, attempt: Int, runID: String) -> URL {
        workDirectory.appendingPathComponent("jobs/\(jobID)/attempt-\(attempt)-\(runID.prefix(8))", isDirectory: true)
    }

    /// The variables a bot sees: a few of the worker's own, then Botyard's, then the inputs
    /// as `BOTYARD_INPUT_<KEY>` and a workflow's variables as `BOTYARD_VAR_<KEY>`.
    func environment(for envelope: JobEnvelope, attempt: Int, account: String, directory: URL) -> [String: String] {
        var environment = inheritedEnvironment
        environment["BOTYARD_JOB_ID"] = String(envelope.jobID)
        environment["BOTYARD_ATTEMPT"] = String(attempt)
        environment["BOTYARD_MAX_ATTEMPTS"] = String(envelope.maxAttempts)
        environment["BOTYARD_ENVIRONMENT"] = envelope.environment
        environment["BOTYARD_BOT"] = envelope.bot.name
        environment["BOTYARD_BOT_VERSION"] = envelope.bot.version
        environment["BOTYARD_GROUP"] = envelope.group
        environment["BOTYARD_OUTPUT"] = directory.appendingPathComponent("outputs").path
        environment["BOTYARD_STOP_FILE"] = directory.appendingPathComponent("stop").path
        environment["BOTYARD_ACCOUNT"] = account
        if let credential = envelope.credential {
            environment["BOTYARD_CREDENTIAL_USERNAME"] = credential.username
            environment["BOTYARD_CREDENTIAL_PASSWORD"] = credential.password
        }
        for (key, value) in envelope.inputs {
            environment["BOTYARD_INPUT_\(key)"] = value
        }
        for (key, value) in envelope.variables ?? [:] {
            environment["BOTYARD_VAR_\(key)"] = value
        }
        return environment
    }

    /// Runs the bot until it exits, its timeout passes, or `control` stops it; never throws:
    /// a bot that cannot start is an outcome too.
    func run(_ envelope: JobEnvelope, attempt: Int, runID: String, account: String, control: RunControl,
             logger: Logger) async -> JobOutcome {
        let directory = runDirectory(jobID: envelope.jobID, attempt: attempt, runID: runID)
        let logPath = directory.appendingPathComponent("log").path
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Int { Int((clock.now - start) / .milliseconds(1)) }

        if control.stopReason != nil {
            // Stopped between its delivery and its start (a cancel, a shutdown, a copy that no
            // longer counts): the bot is never started.
            return JobOutcome(result: .cancelled, reason: "stopped before the bot started", durationMilliseconds: 0)
        }
        let process: BotProcess
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            process = try BotProcess.spawn(
                argv: envelope.bot.argv,
                environment: environment(for: envelope, attempt: attempt, account: account, directory: directory),
                workingDirectory: envelope.bot.workingDirectory, logPath: logPath)
        } catch {
            return JobOutcome(result: .failedToStart, reason: "\(error)", durationMilliseconds: elapsed())
        }
        orphans.record(pid: process.pid, account: account)
        defer { orphans.forget(pid: process.pid, account: account) }
        logger.info("bot started", metadata: ["job.id": "\(envelope.jobID)", "job.attempt": "\(attempt)",
                                              "bot.name": "\(envelope.bot.name)", "bot.pid": "\(process.pid)",
                                              "bot.account": "\(account)"])

        let termination = await withTaskGroup(of: BotProcess.Termination?.self) { group in
            group.addTask { await process.waitForExit() }
            group.addTask {
                guard await control.waitForStop(timeout: .seconds(envelope.timeoutSeconds)) != nil else { return nil }
                FileManager.default.createFile(atPath: directory.appendingPathComponent("stop").path, contents: nil)
                process.signalGroup(SIGTERM)
                try? await Task.sleep(for: terminationGrace)
                if !Task.isCancelled { process.signalGroup(SIGKILL) }
                return nil
            }
            var termination: BotProcess.Termination?
            for await result in group {
                if let result {
                    termination = result
                    group.cancelAll()
                }
            }
            return termination!
        }
        let stopReason = control.finish()
        // Whatever the bot left running in its process group goes with it.
        process.signalGroup(SIGKILL)

        let log = Self.tail(ofFile: logPath, maximumBytes: JobOutcome.maximumLogBytes)
        let outputs = (try? String(contentsOfFile: directory.appendingPathComponent("outputs").path, encoding: .utf8))
            .map { OutputFile.parse(String($0.utf8.prefix(OutputFile.maximumBytes)) ?? "") } ?? [:]
        var outcome = JobOutcome(result: .succeeded, reason: "", outputs: outputs, log: log,
                                 durationMilliseconds: elapsed())
        switch termination {
        case .exited(let code): outcome.exitCode = code
        case .signalled(let signal): outcome.signal = signal
        }
        switch (stopReason, termination) {
        case (.timedOut, _):
            outcome.result = .timedOut
            outcome.reason = "timed out after \(envelope.timeoutSeconds) s; process group terminated"
        case (.cancelled, _):
            outcome.result = .cancelled
            outcome.reason = "cancelled while running; process group terminated"
        case (.shutdown, _):
            outcome.result = .cancelled
            outcome.reason = "stopped by worker shutdown"
        case (.superseded, _):
            outcome.result = .cancelled
            outcome.reason = "stopped: its message no longer counts; process group terminated"
        case (nil, .exited(0)):
            outcome.reason = "exit code 0"
        case (nil, .exited(let code)):
            outcome.result = .failed
            outcome.reason = "exit code \(code)"
        case (nil, .signalled(let signal)):
            outcome.result = .failed
            outcome.reason = "killed by signal \(signal)"
        }
        return outcome
    }

    /// The last `maximumBytes` of a file, as text (invalid UTF-8 repaired).
    static func tail(ofFile path: String, maximumBytes: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(maximumBytes) ? size - UInt64(maximumBytes) : 0)
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
