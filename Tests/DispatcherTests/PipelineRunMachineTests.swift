import Shared
import Testing

@testable import Dispatcher

@Suite("Pipeline engine")
struct PipelineRunMachineTests {
    static func machine(_ policies: [PipelineStep.OnFailure]) -> PipelineRunMachine {
        PipelineRunMachine(definition: PipelineDefinition(
            name: "p", group: "g1",
            steps: policies.enumerated().map { index, policy in
                PipelineStep(bot: "bot\(index + 1)", onFailure: policy, retries: policy == .retry ? 2 : nil)
            }))
    }

    /// Starts the run and gives every started step a job id equal to its number.
    static func started(_ policies: [PipelineStep.OnFailure]) throws -> (PipelineRunMachine, [FlowDecision]) {
        var machine = Self.machine(policies)
        let decisions = try machine.handle(.start)
        attach(decisions, to: &machine)
        return (machine, decisions)
    }

    static func attach(_ decisions: [FlowDecision], to machine: inout PipelineRunMachine) {
        for case .start(let step, _) in decisions { machine.attach(jobID: Int64(step)!, at: step) }
    }

    /// The decision to start step `number` (1-based).
    static func step(_ number: Int) -> FlowDecision { .start(at: String(number), variables: [:]) }

    static func ended(_ number: Int, _ ending: JobEnding) -> FlowEvent { .jobEnded(at: String(number), ending) }

    static let ok = JobEnding(.succeeded)
    static let crashed = JobEnding(.failed(.system), reason: "attempts exhausted (3 of 3); last: exit code 1")

    @Test("A then B then C, each after the one before succeeded; then the run succeeds")
    func inOrder() throws {
        var (machine, decisions) = try Self.started([.stop, .stop, .stop])
        #expect(decisions == [Self.step(1)])
        for step in 0..<2 {
            decisions = try machine.handle(Self.ended(step + 1, Self.ok))
            #expect(decisions == [Self.step(step + 2)])
            Self.attach(decisions, to: &machine)
            #expect(machine.progress.state == .running)
        }
        #expect(try machine.handle(Self.ended(3, Self.ok)) == [])
        #expect(machine.progress.state == .succeeded)
        #expect(machine.progress.steps.map(\.state) == [.succeeded, .succeeded, .succeeded])
    }

    @Test("a failed stop step ends the run failed; later steps never start and show skipped")
    func stopOnFailure() throws {
        var (machine, _) = try Self.started([.stop, .stop, .stop])
        #expect(try machine.handle(Self.ended(1, Self.crashed)) == [])
        #expect(machine.progress.state == .failed)
        #expect(machine.progress.steps.map(\.state) == [.failed, .skipped, .skipped])
        #expect(machine.progress.steps[0].failureKind == .system)
        #expect(machine.progress.reason == "step 1 (bot1) failed (system failure): attempts exhausted (3 of 3); last: exit code 1")
    }

    @Test("continue steps start together with the next blocking step, and the run waits for the slowest")
    func continueSteps() throws {
        var (machine, decisions) = try Self.started([.continue, .continue, .continue])
        #expect(decisions == [Self.step(1), Self.step(2), Self.step(3)])
        #expect(machine.progress.outstanding == 3)
        #expect(try machine.handle(Self.ended(2, JobEnding(.failed(.business), reason: "no order"))) == [])
        #expect(try machine.handle(Self.ended(1, Self.ok)) == [])
        #expect(machine.progress.state == .running && machine.progress.outstanding == 1)
        _ = try machine.handle(Self.ended(3, Self.ok))
        #expect(machine.progress.state == .succeeded, "a continue step's failure does not fail the run")
        #expect(machine.progress.outstanding == 0)
    }

    @Test("a continue step before a stop step: both start at once; a failure of the stop step waits for the continue job")
    func failureWaitsForOutstanding() throws {
        var (machine, decisions) = try Self.started([.continue, .stop, .stop])
        #expect(decisions == [Self.step(1), Self.step(2)])
        _ = try machine.handle(Self.ended(2, Self.crashed))
        #expect(machine.progress.state == .running, "the continue job still runs")
        #expect(machine.progress.steps[2].state == .waiting)
        #expect(try machine.handle(Self.ended(1, Self.ok)) == [])
        #expect(machine.progress.state == .failed)
        #expect(machine.progress.steps.map(\.state) == [.succeeded, .failed, .skipped])
    }

    @Test("pause holds the run after the running step; resume starts the next one")
    func pauseAndResume() throws {
        var (machine, _) = try Self.started([.stop, .stop, .stop])
        #expect(try machine.handle(.pause) == [])
        #expect(machine.progress.state == .paused)
        #expect(try machine.handle(Self.ended(1, Self.ok)) == [], "step 2 waits for resume")
        #expect(machine.progress.steps[1].state == .waiting)
        #expect(throws: FlowRunError(code: .notRunning, message: "a run that is paused cannot be paused")) {
            try machine.handle(.pause)
        }
        #expect(try machine.handle(.resume) == [Self.step(2)])
        #expect(throws: FlowRunError(code: .notPaused, message: "a run that is running cannot be resumed")) {
            try machine.handle(.resume)
        }
    }

    @Test("a run paused during its last step ends when that step ends")
    func pausedLastStep() throws {
        var (machine, _) = try Self.started([.stop])
        _ = try machine.handle(.pause)
        _ = try machine.handle(Self.ended(1, Self.ok))
        #expect(machine.progress.state == .succeeded)
    }

    @Test("cancel stops every running job, skips the rest and ends the run cancelled; nothing more can be asked of it")
    func cancel() throws {
        var (machine, _) = try Self.started([.continue, .stop, .stop])
        #expect(try machine.handle(.cancel(reason: "by test")) == [.cancelJob(1), .cancelJob(2)])
        #expect(machine.progress.state == .cancelled)
        #expect(machine.progress.steps.map(\.state) == [.running, .running, .skipped])
        // The cancelled jobs report; the run stays cancelled and starts nothing.
        #expect(try machine.handle(Self.ended(2, JobEnding(.cancelled))) == [])
        #expect(machine.progress.steps[1].state == .cancelled && machine.progress.state == .cancelled)
        for event in [FlowEvent.pause, .resume, .cancel(reason: "again")] {
            #expect(throws: FlowRunError(code: .runEnded, message: "the run already ended as cancelled")) {
                try machine.handle(event)
            }
        }
    }

    @Test("an ending reported twice, or for a step that does not run, changes nothing")
    func duplicateEnding() throws {
        var (machine, _) = try Self.started([.stop, .stop])
        _ = try machine.handle(Self.ended(1, Self.ok))
        let before = machine.progress
        #expect(try machine.handle(Self.ended(1, Self.ok)) == [])
        #expect(try machine.handle(Self.ended(9, Self.ok)) == [])
        #expect(try machine.handle(.start) == [])
        #expect(machine.progress == before)
    }

    @Test("a job cancelled by an operator fails its stop step, and the run")
    func operatorCancelledStep() throws {
        var (machine, _) = try Self.started([.stop, .stop])
        _ = try machine.handle(Self.ended(1, JobEnding(.cancelled, reason: "cancelled through the API")))
        #expect(machine.progress.state == .failed)
        #expect(machine.progress.reason == "step 1 (bot1) was cancelled: cancelled through the API")
    }
}
