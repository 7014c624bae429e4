import Foundation
import Shared
import TestSupport
import Testing

/// Pipelines run by real workers against the test broker.
@Suite("Pipelines")
struct PipelineTests {
    /// Runs `body` with a fleet that knows the flow bot.
    func withFlowBot(attempts: Int = 1, slots: Int = 4,
                     _ body: @escaping @Sendable (Fleet, FlowBot) async throws -> Void) async throws {
        try await Fleet.run(slots: slots) { fleet in
            let bot = try FlowBot(folder: fleet.folder)
            try await fleet.register(bot.bot(attempts: attempts))
            try await body(fleet, bot)
        }
    }

    static func step(_ tag: String, _ onFailure: PipelineStep.OnFailure = .stop, retries: Int? = nil,
                     seconds: Double = 0.2, failAttempts: Int = 0, business: String? = nil) -> PipelineStep {
        PipelineStep(bot: "flow-bot",
                     inputs: FlowBot.inputs(tag, seconds: seconds, failAttempts: failAttempts, business: business),
                     onFailure: onFailure, retries: retries)
    }

    @Test("A then B then C: each step starts after the one before has ended")
    func inOrder() async throws {
        try await withFlowBot { fleet, bot in
            try await fleet.define(PipelineDefinition(name: "abc", group: "g1",
                                                      steps: [Self.step("A"), Self.step("B"), Self.step("C")]))
            let run = try await fleet.waitForRun(.pipeline, try await fleet.startRun(.pipeline, "abc"))
            #expect(run.state == .succeeded)
            #expect(bot.starts().map(\.tag) == ["A", "B", "C"])
            for (earlier, later) in [("A", "B"), ("B", "C")] {
                #expect(bot.ends(earlier)[0].time < bot.starts(later)[0].time, "\(later) started before \(earlier) ended")
            }
            let steps = try #require(run.steps)
            #expect(steps.map(\.jobState) == [.succeeded, .succeeded, .succeeded])
            #expect(steps.allSatisfy { $0.attempts == 1 && $0.startedAt != nil && $0.finishedAt != nil })
            let job = try await fleet.job(try #require(steps[1].jobID))
            #expect(job.launchMethod == .pipeline && job.initiator == "pipeline run \(run.id)")
        }
    }

    @Test("A fails with onFailure stop: B and C never start, the run fails with A's reason")
    func stopOnFailure() async throws {
        try await withFlowBot { fleet, bot in
            try await fleet.define(PipelineDefinition(name: "stops", group: "g1", steps: [
                Self.step("A", failAttempts: 1), Self.step("B"), Self.step("C"),
            ]))
            let run = try await fleet.waitForRun(.pipeline, try await fleet.startRun(.pipeline, "stops"))
            #expect(run.state == .failed)
            #expect(run.reason == "step 1 (flow-bot) failed (system failure): attempts exhausted (1 of 1); last: exit code 3")
            #expect(run.steps?.map(\.state) == [.failed, .skipped, .skipped])
            #expect(run.steps?.dropFirst().allSatisfy { $0.jobID == nil } == true)
            try await Task.sleep(for: .milliseconds(500))
            #expect(bot.starts().map(\.tag) == ["A"])
        }
    }

    @Test("a business exception in a retry step is not retried: the step fails at once and stops the run, its kind shown")
    func businessExceptionStops() async throws {
        try await withFlowBot { fleet, bot in
            try await fleet.define(PipelineDefinition(name: "business", group: "g1", steps: [
                Self.step("A", .retry, retries: 2, business: "invoice 17 is already paid"), Self.step("B"),
            ]))
            let run = try await fleet.waitForRun(.pipeline, try await fleet.startRun(.pipeline, "business"))
            #expect(run.state == .failed)
            #expect(run.reason == "step 1 (flow-bot) failed (business failure): business exception: invoice 17 is already paid")
            let step = try #require(run.steps?.first)
            #expect(step.jobState == .failed && step.failureKind == .business && step.attempts == 1)
            #expect(bot.starts().map(\.tag) == ["A"])
        }
    }

    @Test("three continue steps run side by side, and the run completes only after the slowest reported")
    func continueSteps() async throws {
        try await withFlowBot { fleet, bot in
            try await fleet.define(PipelineDefinition(name: "fan", group: "g1", steps: [
                Self.step("A", .continue, seconds: 2), Self.step("B", .continue, seconds: 4, failAttempts: 1),
                Self.step("C", .continue, seconds: 2, business: "no open orders"),
            ]))
            let id = try await fleet.startRun(.pipeline, "fan")
            let whileSlowestRuns = try await fleet.waitForRun(.pipeline, id) { run in
                run.steps?.filter { $0.jobState?.isTerminal == true }.count == 2
            }
            #expect(whileSlowestRuns.state == .running && whileSlowestRuns.outstanding == 1)
            let run = try await fleet.waitForRun(.pipeline, id)
            #expect(run.state == .succeeded, "a continue step's failure does not stop the run")
            #expect(run.outstanding == 0)
            let slowestEnd = try #require(bot.ends("B").first?.time)
            #expect(run.finishedAt.map { $0.timeIntervalSince1970 * 1e9 } ?? 0 >= Double(slowestEnd) - 1e7)
            let starts = bot.starts().map(\.time)
            let ends = bot.ends().map(\.time)
            #expect(starts.count == 3 && starts.max()! < ends.min()!, "all three ran at once")
            #expect(run.steps?[1].jobState == .dead && run.steps?[1].failureKind == .system)
            #expect(run.steps?[2].jobState == .failed && run.steps?[2].failureKind == .business)
        }
    }

    @Test("retry 2: a bot that fails twice then succeeds completes the step, as one job with three attempts")
    func retryStep() async throws {
        try await withFlowBot { fleet, bot in
            try await fleet.define(PipelineDefinition(name: "retries", group: "g1", steps: [
                Self.step("A", .retry, retries: 2, failAttempts: 2), Self.step("B"),
            ]))
            let run = try await fleet.waitForRun(.pipeline, try await fleet.startRun(.pipeline, "retries"))
            #expect(run.state == .succeeded)
            #expect(run.steps?[0].attempts == 3)
            #expect(bot.starts("A").map(\.attempt) == [1, 2, 3])
            #expect(bot.starts().map(\.tag) == ["A", "A", "A", "B"])
        }
    }

    @Test("pause while step 2 runs: step 2 finishes, step 3 starts only after resume")
    func pauseAndResume() async throws {
        try await withFlowBot { fleet, bot in
            try await fleet.define(PipelineDefinition(name: "holds", group: "g1", steps: [
                Self.step("A"), Self.step("B", seconds: 3), Self.step("C"),
            ]))
            let id = try await fleet.startRun(.pipeline, "holds")
            try await waitUntil(timeout: .seconds(20)) { !bot.starts("B").isEmpty }
            #expect(try await fleet.control(.pipeline, id, "pause").state == .paused)
            let held = try await fleet.waitForRun(.pipeline, id) { $0.steps?[1].jobState == .succeeded }
            try await Task.sleep(for: .seconds(1))
            #expect(bot.starts("C").isEmpty, "step 3 started while the run was paused")
            #expect(try await fleet.run(.pipeline, id).steps?[2].state == .waiting)
            #expect(held.state == .paused)
            try await fleet.control(.pipeline, id, "resume")
            let run = try await fleet.waitForRun(.pipeline, id)
            #expect(run.state == .succeeded)
            #expect(bot.ends("B")[0].time + 900_000_000 < bot.starts("C")[0].time, "C waited for resume")
        }
    }

    @Test("cancel stops the running bot (its process group is gone), abandons the rest, and the run is cancelled")
    func cancel() async throws {
        try await withFlowBot { fleet, bot in
            try await fleet.define(PipelineDefinition(name: "stopped", group: "g1", steps: [
                Self.step("A", seconds: 60), Self.step("B"),
            ]))
            let id = try await fleet.startRun(.pipeline, "stopped")
            try await waitUntil(timeout: .seconds(20)) { !bot.starts("A").isEmpty }
            let group = bot.starts("A")[0].pid
            let cancelled = try await fleet.control(.pipeline, id, "cancel")
            #expect(cancelled.state == .cancelled)
            #expect(cancelled.steps?.map(\.state) == [.cancelled, .skipped])
            try await waitUntil(timeout: .seconds(20)) { kill(-group, 0) != 0 && errno == ESRCH }
            #expect(kill(-group, 0) != 0, "the bot's process group is gone")
            #expect(bot.ends("A").isEmpty && bot.starts("B").isEmpty)
            let job = try await fleet.job(try #require(cancelled.steps?[0].jobID))
            #expect(job.state == .cancelled)
        }
    }
}
