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
        let runner = BotRunner(workDirectory: folder, terminationGrace: .seconds(2))
        let envelope = JobEnvelope(
            jobID: 7, attempt: 2, maxAttempts: 3,
            bot: BotDefinition(name: "t", argv: argv, workingDirectory: workingDirectory, timeoutSeconds: timeout),
            group: "g", priority: .normal, environment: "dev", inputs: inputs, account: nil, timeoutSeconds: timeout,
            submittedAt: Date())
        return await runner.run(envelope, attempt: 2, runID: UUID().uuidString, account: "robot1", control: control,
                                logger: Logger(label: "test")).outcome
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
        #expect(ContinuousClock.now - start < .seconds(10))
        let child = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        try await Task.sleep(for: .milliseconds(200))
        #expect(!isRunning(child), "the bot's child \(child) survived")
    }

    @Test("a bot that ignores SIGTERM is killed after the grace period")
    func ignoresSigterm() async {
        let start = ContinuousClock.now
        let outcome = await run(["/bin/sh", "-c", "trap '' TERM; sleep 30"], timeout: 1)
        #expect(outcome.result == .timedOut)
        #expect(outcome.signal == SIGKILL)
        #expect(ContinuousClock.now - start < .seconds(10))
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
}

@Suite("Output file")
struct OutputFileTests {
    @Test("KEY=VALUE lines become outputs; other lines are ignored; the last value wins")
    func parse() {
        let text = "A=1\n# comment\n\nB = two words\nbad key=x\nA=3\nURL=http://x/?a=b\n"
        #expect(OutputFile.parse(text) == ["A": "3", "B": " two words", "URL": "http://x/?a=b"])
    }
}
