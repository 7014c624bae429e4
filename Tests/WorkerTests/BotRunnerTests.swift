import Foundation
import Logging
import Shared
import TestSupport
import Testing

@testable import Worker

@Suite("Bot runner")
final class BotRunnerTests: Sendable {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-runner-\(UUID().uuidString)")

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    func run(_ argv: [String], timeout: Int = 30, inputs: [String: String] = [:], workingDirectory: String? = nil,
             control: RunControl = RunControl()) async -> JobOutcome {
        await report(argv, timeout: timeout, inputs: inputs, workingDirectory: workingDirectory, control: control).outcome
    }

    func report(_ argv: [String], timeout: Int = 30, inputs: [String: String] = [:], workingDirectory: String? = nil,
                control: RunControl = RunControl(), cleanup: PendingCleanup? = nil) async -> BotRunner.Report {
        let runner = BotRunner(workDirectory: folder, terminationGrace: .seconds(2))
        let envelope = JobEnvelope(
            jobID: 7, attempt: 2, maxAttempts: 3,
            bot: BotDefinition(name: "t", argv: argv, workingDirectory: workingDirectory, timeoutSeconds: timeout),
            group: "g", priority: .normal, environment: "dev", inputs: inputs, account: nil, timeoutSeconds: timeout,
            submittedAt: Date())
        return await runner.run(envelope, attempt: 2, runID: UUID().uuidString, account: "robot1", control: control,
                                cleanup: cleanup, logger: Logger(label: "test"))
    }

    @Test("a bot sees its job, attempt, environment and inputs, and its outputs and log come back")
    func success() async {
        let outcome = await run(["/bin/sh", "-c", """
            echo "job=$BOTYARD_JOB_ID attempt=$BOTYARD_ATTEMPT env=$BOTYARD_ENVIRONMENT account=$BOTYARD_ACCOUNT in=$BOTYARD_INPUT_NAME"
            echo "to stderr" >&2
            printf 'TOTAL=42\\nNOTE=a=b\\nnot an output\\n' > "$BOTYARD_OUTPUT"
            """], inputs: ["NAME": "world"])
        #expect(outcome.result == .succeeded)
        #expect(outcome.exitCode == 0)
        #expect(outcome.log == "job=7 attempt=2 env=dev account=robot1 in=world\nto stderr\n")
        #expect(outcome.outputs == ["TOTAL": "42", "NOTE": "a=b"])
    }

    @Test("a run keeps its files side by side in the runs folder under its own name — no folder per run — and they go with it")
    func runFiles() async throws {
        let outcome = await run(["/bin/sh", "-c",
                                 "echo hi; echo DONE=yes > \"$BOTYARD_OUTPUT\"; echo \"$BOTYARD_STOP_FILE\""])
        let runs = folder.appendingPathComponent("runs")
        let names = try FileManager.default.contentsOfDirectory(atPath: runs.path).sorted()
        let made = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(made.filter { $0 != "accounts" } == ["runs"])
        let stem = try #require(names.first?.split(separator: ".").first.map(String.init))
        #expect(stem.hasPrefix("7-attempt-2-") && names == ["\(stem).log", "\(stem).outputs"])
        #expect(outcome.log == "hi\n\(runs.path)/\(stem).stop\n" && outcome.outputs == ["DONE": "yes"])
        let files = RunFiles(folder: runs.path, jobID: 7, attempt: 2,
                             runID: String(stem.dropFirst("7-attempt-2-".count)))
        files.remove()
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs.path).isEmpty)
    }

    @Test("a non-zero exit is a failure with its code")
    func failure() async {
        let outcome = await run(["/bin/sh", "-c", "exit 3"])
        #expect(outcome.result == .failed)
        #expect(outcome.exitCode == 3)
        #expect(outcome.reason == "exit code 3")
    }

    @Test("a program that does not exist fails to start, with the reason")
    func missingProgram() async {
        let outcome = await run(["/nonexistent/bot"])
        #expect(outcome.result == .failedToStart)
        #expect(outcome.reason.contains("No such file"))
    }

    @Test("argv and inputs reach the bot literally: no shell ever sees them")
    func noShellInjection() async throws {
        let marker = folder.appendingPathComponent("pwned").path
        let hostile = "$(touch \(marker)); `touch \(marker)` && touch \(marker)"
        let outcome = await run(["/bin/echo", hostile], inputs: ["EVIL": hostile])
        #expect(outcome.log == hostile + "\n")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("the working directory is the bot's")
    func workingDirectory() async {
        let outcome = await run(["/bin/pwd"], workingDirectory: "/tmp")
        #expect(outcome.log == "/tmp\n")
    }

    @Test("a bot past its timeout is killed with its whole process group, children included")
    func timeoutKillsGroup() async throws {
        let pidFile = folder.appendingPathComponent("child.pid").path
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let start = ContinuousClock.now
        let outcome = await run(["/bin/sh", "-c", "sleep 60 & echo $! > \(pidFile); wait"], timeout: 1)
        #expect(outcome.result == .timedOut)
        // Its 1 s timeout and the stop grace, far from the 60 s it would run; loose for a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(20))
        let child = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        try await Task.sleep(for: .milliseconds(200))
        #expect(!isRunning(child), "the bot's child \(child) survived")
    }

    @Test("a bot that exits on its own leaves nothing behind in its group, and its finished run refuses pause and resume")
    func exitKillsGroup() async throws {
        let control = RunControl()
        let outcome = await run(["/bin/sh", "-c", "sleep 60 & echo CHILD=$! > \"$BOTYARD_OUTPUT\""], control: control)
        #expect(outcome.result == .succeeded)
        let child = try #require(outcome.outputs["CHILD"].flatMap { pid_t($0) })
        #expect(!control.pause() && !control.resume())
        try await Task.sleep(for: .milliseconds(200))
        #expect(!isRunning(child), "the bot's child \(child) survived")
    }

    @Test("a bot that ignores SIGTERM is killed after the grace period")
    func ignoresSigterm() async {
        let start = ContinuousClock.now
        let outcome = await run(["/bin/sh", "-c", "trap '' TERM; sleep 30"], timeout: 1)
        #expect(outcome.result == .timedOut)
        #expect(outcome.signal == SIGKILL)
        // Its 1 s timeout and the stop grace, far from the 30 s it would sleep; loose for a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test("a cancel stops a running bot and finds the stop file in place")
    func cancel() async {
        let control = RunControl()
        async let outcome = run(["/bin/sh", "-c", "trap 'test -e \"$BOTYARD_STOP_FILE\" && echo saw-stop; exit 0' TERM; sleep 30 & wait"],
                                control: control)
        try? await Task.sleep(for: .milliseconds(500))
        control.stop(.cancelled)
        let result = await outcome
        #expect(result.result == .cancelled)
        #expect(result.log.contains("saw-stop"))
    }

    @Test("a bot that writes BUSINESS_EXCEPTION=<reason> and exits on its own ends in a business exception with that reason, whatever its exit code")
    func businessException() async {
        for code in [0, 4] {
            let outcome = await run(["/bin/sh", "-c", "echo 'BUSINESS_EXCEPTION= invoice 17 is already paid' > \"$BOTYARD_OUTPUT\"; exit \(code)"])
            #expect(outcome.result == .businessException)
            #expect(outcome.reason == "invoice 17 is already paid")
            #expect(outcome.exitCode == Int32(code))
        }
    }

    @Test("a business exception declared by a bot that was then timed out is a timeout, not a business exception")
    func businessExceptionNeedsOwnExit() async {
        let outcome = await run(["/bin/sh", "-c", "echo BUSINESS_EXCEPTION=x > \"$BOTYARD_OUTPUT\"; sleep 30"], timeout: 1)
        #expect(outcome.result == .timedOut)
    }

    @Test("polite stop: on cancel the bot sees its stop file, finishes its step and exits within its grace, never sent SIGTERM")
    func politeStop() async {
        let control = RunControl(stopGrace: .seconds(5))
        let script = """
            trap 'echo got-TERM; exit 9' TERM
            while [ ! -e "$BOTYARD_STOP_FILE" ]; do sleep 0.05; done
            echo saw-stop-file; sleep 0.5; echo step-finished
            """
        async let outcome = run(["/bin/sh", "-c", script], control: control)
        try? await Task.sleep(for: .milliseconds(500))
        let stopped = ContinuousClock.now
        control.stop(.cancelled)
        let result = await outcome
        #expect(result.result == .cancelled)
        #expect(result.exitCode == 0 && result.signal == nil)
        #expect(result.log == "saw-stop-file\nstep-finished\n")
        #expect(result.reason == "cancelled while running; the bot finished on its stop request")
        #expect(ContinuousClock.now - stopped < .seconds(5), "within its grace")
    }

    @Test("a run whose delivery went back (failed channel) gets no stop grace: SIGTERM at once, whatever its grace")
    func handedBackStopsAtOnce() async {
        let control = RunControl(stopGrace: .seconds(3600))
        let script = "trap 'echo got-TERM; exit 9' TERM; while :; do sleep 0.05; done"
        async let outcome = run(["/bin/sh", "-c", script], control: control)
        try? await Task.sleep(for: .milliseconds(300))
        let stopped = ContinuousClock.now
        control.stop(.handedBack)
        let result = await outcome
        // Far below its hour of grace, with room for a machine the whole suite loads.
        #expect(ContinuousClock.now - stopped < .seconds(30))
        #expect(result.result == .cancelled && result.log.contains("got-TERM"), "\(result.log)")
        #expect(result.reason == "stopped: its delivery went back to the queue (the account's channel failed); "
            + "process group terminated")
    }

    @Test("a run whose task is cancelled (its channel failed) still carries out the whole stop sequence and waits for its bot")
    func cancelledTaskStillStopsInFull() async throws {
        let control = RunControl(stopGrace: .seconds(3600))
        // Ignores SIGTERM (its sleep too: an ignored signal stays ignored across exec): only SIGKILL, after the
        // termination grace of 2 s, ends it.
        let running = Task { await self.run(["/bin/sh", "-c", "trap '' TERM; sleep 60"], control: control) }
        try await Task.sleep(for: .milliseconds(300))
        running.cancel()
        try await Task.sleep(for: .milliseconds(200))
        let stopped = ContinuousClock.now
        control.stop(.handedBack)
        let outcome = await running.value
        let took = ContinuousClock.now - stopped
        #expect(outcome.result == .cancelled && outcome.signal == SIGKILL, "\(outcome)")
        // The grace between SIGTERM and SIGKILL was waited out in the cancelled task, not cut short; far
        // below the bot's 60 s, with room for a machine the whole suite loads.
        #expect(took >= .seconds(2) && took < .seconds(30), "\(took)")
    }

    @Test("a paused bot uses no CPU and its timeout does not run; resumed, it finishes")
    func pauseFreezesBot() async throws {
        let control = RunControl()
        let pidFile = folder.appendingPathComponent("spinner.pid").path
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Busy for about 1 s of its own CPU time.
        let script = "echo $$ > \(pidFile); i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done; echo done"
        let started = ContinuousClock.now
        async let outcome = run(["/bin/sh", "-c", script], timeout: 20, control: control)
        try await Task.sleep(for: .milliseconds(300))
        let pid = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(control.pause())
        try await Task.sleep(for: .milliseconds(200))
        let before = try #require(cpuTicks(of: pid))
        try await Task.sleep(for: .seconds(1))
        let after = try #require(cpuTicks(of: pid))
        #expect(after == before, "a paused bot used CPU: \(before) → \(after) ticks")
        #expect(control.resume())
        let result = await outcome
        #expect(result.result == .succeeded && result.log == "done\n")
        #expect(ContinuousClock.now - started > .seconds(1.2))
    }

    @Test("a paused bot whose wall time passes its timeout is not timed out for the frozen time")
    func timeoutIgnoresFrozenTime() async throws {
        let control = RunControl()
        async let outcome = run(["/bin/sleep", "1.5"], timeout: 2, control: control)
        try await Task.sleep(for: .milliseconds(300))
        #expect(control.pause())
        try await Task.sleep(for: .seconds(2.5))
        #expect(control.resume())
        let result = await outcome
        #expect(result.result == .succeeded, "\(result.reason)")
    }

    @Test("a paused bot that is cancelled is thawed, sees its stop file and finishes politely")
    func cancelPaused() async throws {
        let control = RunControl(stopGrace: .seconds(5))
        async let outcome = run(["/bin/sh", "-c", "while [ ! -e \"$BOTYARD_STOP_FILE\" ]; do sleep 0.05; done; echo bye"],
                                control: control)
        try await Task.sleep(for: .milliseconds(300))
        #expect(control.pause())
        try await Task.sleep(for: .milliseconds(300))
        control.stop(.cancelled)
        let result = await outcome
        #expect(result.result == .cancelled && result.exitCode == 0 && result.log == "bye\n")
    }

    @Test("a run stopped or killed owes a cleanup when the bot has one; its record stays until then")
    func cleanupOwed() async throws {
        let cleanup = PendingCleanup(argv: ["/bin/true"], jobID: 7, attempt: 2, envelopeAttempt: 2, runID: "r", bot: "t")
        let timedOut = await report(["/bin/sleep", "30"], timeout: 1, cleanup: cleanup)
        #expect(timedOut.needsCleanup)
        let pid = try #require(timedOut.pid)
        #expect(OrphanReaper(workDirectory: folder, host: "local").reap(account: "robot1").map(\.cleanup) == [cleanup])
        _ = pid
        #expect(!(await report(["/bin/sh", "-c", "exit 3"], cleanup: cleanup)).needsCleanup)
        #expect(!(await report(["/bin/sleep", "30"], timeout: 1)).needsCleanup, "no cleanup named: none owed")
    }

    @Test("a cleanup command runs with its account and job in its environment; exit 0 succeeds, others fail, a slow one is killed")
    func cleanupRuns() async throws {
        // A generous limit for the cleanups that end by themselves (the suite loads the machine), a short one for the slow.
        let runner = BotRunner(workDirectory: folder, terminationGrace: .milliseconds(500),
                               cleanupTimeout: .seconds(20))
        let impatient = BotRunner(workDirectory: folder, terminationGrace: .milliseconds(500),
                                  cleanupTimeout: .seconds(1))
        func cleanup(_ argv: [String]) -> PendingCleanup {
            PendingCleanup(argv: argv, jobID: 7, attempt: 2, envelopeAttempt: 2, runID: UUID().uuidString, bot: "t")
        }
        let ok = await runner.runCleanup(
            cleanup(["/bin/sh", "-c", "echo \"$BOTYARD_ACCOUNT $BOTYARD_JOB_ID $BOTYARD_ATTEMPT $BOTYARD_BOT: $BOTYARD_CLEANUP_REASON\""]),
            account: "robot1", why: "timed out")
        #expect(ok.result == .succeeded && ok.log == "robot1 7 2 t: timed out\n")
        let failed = await runner.runCleanup(cleanup(["/bin/sh", "-c", "echo reset failed; exit 3"]), account: "robot1",
                                             why: "x")
        #expect(failed.result == .failed && failed.reason == "exit code 3" && failed.log == "reset failed\n")
        let slow = await impatient.runCleanup(cleanup(["/bin/sleep", "30"]), account: "robot1", why: "x")
        #expect(slow.result == .timedOut && slow.reason == "timed out after 1 s")
        let missing = await runner.runCleanup(cleanup(["/nonexistent/reset"]), account: "robot1", why: "x")
        #expect(missing.result == .failedToStart)
    }
}

/// utime + stime of a process, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
func cpuTicks(of pid: pid_t) -> Int? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
    return user + system
}

@Suite("Output file")
struct OutputFileTests {
    @Test("KEY=VALUE lines become outputs; other lines are ignored; the last value wins")
    func parse() {
        let text = "A=1\n# comment\n\nB = two words\nbad key=x\nA=3\nURL=http://x/?a=b\n"
        #expect(OutputFile.parse(text) == ["A": "3", "B": " two words", "URL": "http://x/?a=b"])
    }
}
