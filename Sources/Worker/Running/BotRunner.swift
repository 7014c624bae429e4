import Foundation
import Logging
import Shared

/// Runs one attempt of a job as a child process and describes how it ended.
struct BotRunner: Sendable {
    /// Where the runs' files are kept (``RunFiles``, in its `runs` folder).
    let workDirectory: URL
    /// The folder of every run's files, as a path (made once: `URL`'s appending cost a busy worker
    /// a few per cent of its CPU).
    let runsFolder: String
    /// Time between SIGTERM and SIGKILL when a bot is stopped.
    var terminationGrace: Duration
    /// Variables of the worker's own environment passed on to bots.
    var inheritedEnvironment: [String: String]
    /// Records each running bot, for a worker that takes the account over after this one died.
    var orphans: OrphanReaper
    /// How long an account's cleanup command may run before it is killed (and counts as failed).
    var cleanupTimeout: Duration
    /// How long one run may spend paused in all; then its bot is resumed.
    var pauseLimit: Duration
    /// The dispatcher's API for bots (`BOTYARD_URL`), if they are told.
    var apiURL: String?

    static let inheritedVariables = ["PATH", "HOME", "LANG", "LC_ALL", "USER", "LOGNAME", "TMPDIR", "TZ", "DISPLAY"]

    init(workDirectory: URL, host: String = "local", terminationGrace: Duration,
         cleanupTimeout: Duration = .seconds(120), pauseLimit: Duration = .seconds(86_400), apiURL: String? = nil,
         environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.apiURL = apiURL
        self.workDirectory = workDirectory
        self.runsFolder = workDirectory.appendingPathComponent("runs", isDirectory: true).path
        self.terminationGrace = terminationGrace
        self.cleanupTimeout = cleanupTimeout
        self.pauseLimit = pauseLimit
        self.orphans = OrphanReaper(workDirectory: workDirectory, host: host)
        self.inheritedEnvironment = environment.filter { Self.inheritedVariables.contains($0.key) }
        if inheritedEnvironment["PATH"] == nil { inheritedEnvironment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
    }

    /// The files of one run.
    func runFiles(jobID: Int64, attempt: Int, runID: String) -> RunFiles {
        RunFiles(folder: runsFolder, jobID: jobID, attempt: attempt, runID: runID)
    }

    /// The variables a bot sees: a few of the worker's own, then Botyard's, then the inputs
    /// as `BOTYARD_INPUT_<KEY>` and a workflow's variables as `BOTYARD_VAR_<KEY>`.
    func environment(for envelope: JobEnvelope, attempt: Int, account: String, credential: AccountCredential?,
                     files: RunFiles) -> [String: String] {
        var environment = inheritedEnvironment
        environment["BOTYARD_JOB_ID"] = String(envelope.jobID)
        environment["BOTYARD_ATTEMPT"] = String(attempt)
        environment["BOTYARD_MAX_ATTEMPTS"] = String(envelope.maxAttempts)
        environment["BOTYARD_ENVIRONMENT"] = envelope.environment
        environment["BOTYARD_BOT"] = envelope.bot.name
        environment["BOTYARD_BOT_VERSION"] = envelope.bot.version
        environment["BOTYARD_GROUP"] = envelope.group
        environment["BOTYARD_OUTPUT"] = files.outputs
        environment["BOTYARD_STOP_FILE"] = files.stop
        environment["BOTYARD_ACCOUNT"] = account
        if let credential {
            environment["BOTYARD_CREDENTIAL_USERNAME"] = credential.username
            environment["BOTYARD_CREDENTIAL_PASSWORD"] = credential.password
        }
        for (key, value) in envelope.inputs {
            environment["BOTYARD_INPUT_\(key)"] = value
        }
        // The CLI inside the bot reaches the dispatcher, and the dispatcher knows the job by its token.
        environment["BOTYARD_URL"] = apiURL
        environment["BOTYARD_JOB_TOKEN"] = envelope.jobToken
        for (key, value) in envelope.variables ?? [:] {
            environment["BOTYARD_VAR_\(key)"] = value
        }
        return environment
    }

    /// How one run ended, and whether the account owes its cleanup for it.
    struct Report: Sendable {
        var outcome: JobOutcome
        /// The run was stopped or killed (``CleanupTrigger``) and `cleanup` was given: the run's record
        /// stays until the cleanup has run (``OrphanReaper/forget(pid:account:)``).
        var needsCleanup = false
        var pid: pid_t?
        /// When the bot's process was spawned; nil when it never was.
        var spawnedAt: ContinuousClock.Instant?
    }

    /// Runs the bot until it exits, its timeout passes (running time only: see ``RunControl``), or
    /// `control` stops it; never throws: a bot that cannot start is an outcome too.
    ///
    /// - Parameter cleanup: what the account must run if this run is stopped or killed; recorded with
    ///   the running bot, so that a worker taking the account over after a crash runs it as well.
    ///
    /// - Parameter credential: the account's, for a UI bot (``CredentialResolver``).
    func run(_ envelope: JobEnvelope, attempt: Int, runID: String, account: String,
             credential: AccountCredential? = nil, control: RunControl, cleanup: PendingCleanup? = nil,
             logger: Logger) async -> Report {
        let files = runFiles(jobID: envelope.jobID, attempt: attempt, runID: runID)
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Int { Int((clock.now - start) / .milliseconds(1)) }

        if control.stopReason != nil {
            // Stopped between its delivery and its start (a cancel, a shutdown, a copy that no
            // longer counts): the bot is never started.
            return Report(outcome: JobOutcome(result: .cancelled, reason: "stopped before the bot started",
                                              durationMilliseconds: 0))
        }
        let process: BotProcess
        do {
            try RunFiles.prepare(runsFolder)
            process = try BotProcess.spawn(
                argv: envelope.bot.argv,
                environment: environment(for: envelope, attempt: attempt, account: account, credential: credential,
                                         files: files),
                workingDirectory: envelope.bot.workingDirectory, logPath: files.log)
        } catch {
            return Report(outcome: JobOutcome(result: .failedToStart, reason: "\(error)",
                                              durationMilliseconds: elapsed()))
        }
        let spawnedAt = ContinuousClock.now
        control.attach(process, timeout: .seconds(envelope.timeoutSeconds), pauseLimit: pauseLimit)
        orphans.record(process, account: account, cleanup: cleanup)
        logger.info("bot started", metadata: ["job.id": "\(envelope.jobID)", "job.attempt": "\(attempt)",
                                              "bot.name": "\(envelope.bot.name)", "bot.pid": "\(process.pid)",
                                              "bot.account": "\(account)"])

        // Not reaped yet: until the group is killed and the stop sequence has ended, its id stays the bot's.
        ChildExitWatcher.shared.watch(process.pid) { control.exited($0) }
        let resumed = {
            logger.warning("bot resumed: it was paused for as long as a run may be (--pause-limit)", metadata: [
                "job.id": "\(envelope.jobID)", "job.attempt": "\(attempt)", "bot.pid": "\(process.pid)",
                "pause.limit_seconds": "\(Int(pauseLimit.seconds))",
            ])
        }
        let termination = switch await control.waitForExitOrStop(onPauseLimit: resumed) {
        case .exited(let termination): termination
        case .stop(let reason): await stop(process, for: reason, control: control, files: files)
        }
        // Under the control's lock: a pause or resume from now on is refused and signals nothing.
        let stopReason = control.finish()
        // Whatever the bot left running in its process group goes with it (SIGKILL ends stopped processes too).
        process.signalGroup(SIGKILL)
        // Only now may the group's id be reused.
        process.reap()
        let needsCleanup = cleanup != nil && CleanupTrigger.isNeeded(stopReason: stopReason, termination: termination)
        if !needsCleanup { orphans.forget(pid: process.pid, account: account) }

        // The credential's values never leave the worker in the log or the outputs, nor stay in the log file.
        let redactor = SecretRedactor(secrets: [credential?.username, credential?.password]
            .compactMap { $0 })
        let log: String
        do {
            try redactor.redact(fileAt: files.log)
            log = Self.tail(ofFile: files.log, maximumBytes: JobOutcome.maximumLogBytes)
        } catch {
            logger.error("the bot's log could not be cleared of its credential; it is withheld", metadata: [
                "job.id": "\(envelope.jobID)", "error": "\(error)",
            ])
            log = "[log withheld: it could not be cleared of the run's credential]"
        }
        let outputs = (try? String(contentsOfFile: files.outputs, encoding: .utf8))
            .map { OutputFile.parse(String($0.utf8.prefix(OutputFile.maximumBytes)) ?? "") }?
            .mapValues { redactor.redact($0) } ?? [:]
        var outcome = JobOutcome(result: .succeeded, reason: "", outputs: outputs, log: log,
                                 durationMilliseconds: elapsed())
        switch termination {
        case .exited(let code): outcome.exitCode = code
        case .signalled(let signal): outcome.signal = signal
        }
        let how = control.wasTerminated
            ? "process group terminated" : "the bot finished on its stop request"
        switch (stopReason, termination) {
        case (.timedOut, _):
            outcome.result = .timedOut
            outcome.reason = "timed out after \(envelope.timeoutSeconds) s; process group terminated"
        case (.cancelled, _):
            outcome.result = .cancelled
            outcome.reason = "cancelled while running; \(how)"
        case (.shutdown, _):
            outcome.result = .cancelled
            outcome.reason = "stopped by worker shutdown; \(how)"
        case (.superseded, _):
            outcome.result = .cancelled
            outcome.reason = "stopped: its message no longer counts; process group terminated"
        case (.handedBack, _):
            outcome.result = .cancelled
            outcome.reason = "stopped: its delivery went back to the queue (the account's channel failed); "
                + "process group terminated"
        case (nil, .exited(let code)):
            if let declared = outputs[JobOutcome.businessExceptionKey] {
                // The bot said so itself, and exited on its own: whatever its exit code, not a system failure.
                let trimmed = declared.trimmingCharacters(in: .whitespaces)
                outcome.result = .businessException
                outcome.reason = trimmed.isEmpty ? "no reason given" : String(trimmed.prefix(1024))
            } else if code == 0 {
                outcome.reason = "exit code 0"
            } else {
                outcome.result = .failed
                outcome.reason = "exit code \(code)"
            }
        case (nil, .signalled(let signal)):
            outcome.result = .failed
            outcome.reason = "killed by signal \(signal)"
        }
        return Report(outcome: outcome, needsCleanup: needsCleanup, pid: process.pid, spawnedAt: spawnedAt)
    }

    /// Carries out the stop sequence for `reason` (``StopSequence``) until the bot has exited; how it ended.
    /// Nothing is sent after its exit.
    private func stop(_ process: BotProcess, for reason: RunControl.StopReason, control: RunControl,
                      files: RunFiles) async -> BotProcess.Termination {
        for step in StopSequence.steps(for: reason, stopGrace: control.stopGrace, terminationGrace: terminationGrace) {
            if let exit = control.exitStatus { return exit }
            switch step {
            case .createStopFile: FileManager.default.createFile(atPath: files.stop, contents: nil)
            case .continueGroup: process.signalGroup(SIGCONT)
            case .wait(let duration):
                if let exit = await control.waitForExit(upTo: duration) { return exit }
            case .signal(let signal):
                control.noteTerminated()
                process.signalGroup(signal)
            }
        }
        return await control.waitForExit()
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
