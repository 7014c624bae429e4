import Shared

/// A pipeline run's progress: the state its engine decides on, persisted by the store as one
/// JSON value beside the definition it runs.
struct PipelineProgress: Codable, Equatable, Sendable {
    var state: FlowRunState = .running
    var steps: [FlowStepProgress]
    /// The next step to start.
    var nextStep = 0
    /// The step the run waits for (a `stop` or `retry` step that is running).
    var blockingStep: Int?
    /// `continue` steps started and not yet reported: the run cannot end before this is 0.
    var outstanding = 0
    /// The step whose failure stopped the run.
    var stoppedBy: Int?
    /// Why the run failed or was cancelled.
    var reason: String?

    init(stepCount: Int) {
        steps = Array(repeating: FlowStepProgress(), count: stepCount)
    }
}

/// The pipeline engine: a run's state plus an event gives the new state and the jobs to start
/// or stop. Pure: the store persists what it decides in the transaction of the event's cause.
///
/// Steps start in order. A `stop` or `retry` step holds the run until its job ends; a
/// `continue` step's job is started and the run moves on at once. A failed `stop`/`retry` step
/// stops the run (later steps are skipped); the run ends only when no job of it runs any more.
struct PipelineRunMachine: FlowRunMachine {
    let definition: PipelineDefinition
    private(set) var progress: PipelineProgress

    init(definition: PipelineDefinition, progress: PipelineProgress? = nil) {
        self.definition = definition
        self.progress = progress ?? PipelineProgress(stepCount: definition.steps.count)
    }

    var state: FlowRunState { progress.state }
    var reason: String? { progress.reason }
    var outstanding: Int? { progress.outstanding }

    mutating func handle(_ event: FlowEvent) throws(FlowRunError) -> [FlowDecision] {
        switch event {
        case .start:
            guard progress.nextStep == 0, progress.state == .running else { return [] }
            return advance()
        case .jobEnded(let position, let ending):
            guard let index = Self.index(position), progress.steps.indices.contains(index),
                  progress.steps[index].state == .running
            else { return [] }
            progress.steps[index].record(ending)
            if progress.blockingStep == index {
                progress.blockingStep = nil
                if ending.result != .succeeded && progress.stoppedBy == nil && !progress.state.isTerminal {
                    progress.stoppedBy = index
                    progress.reason = "step \(index + 1) (\(definition.steps[index].bot)) \(Self.describe(ending))"
                }
            } else {
                progress.outstanding -= 1
            }
            return advance()
        case .pause:
            try progress.state.pause()
            return []
        case .resume:
            try progress.state.resume()
            return advance()
        case .cancel(let reason):
            try progress.state.cancel()
            progress.reason = reason
            skipWaitingSteps()
            return progress.steps.compactMap { $0.state == .running ? $0.jobID.map(FlowDecision.cancelJob) : nil }
        }
    }

    mutating func attach(jobID: Int64, at position: String) {
        guard let index = Self.index(position), progress.steps.indices.contains(index) else { return }
        progress.steps[index].jobID = jobID
    }

    func launch(at position: String, variables: [String: String]) -> FlowLaunch {
        let step = definition.steps[Self.index(position)!]
        return FlowLaunch(bot: step.bot, group: step.group ?? definition.group, environment: definition.environment,
                          priority: definition.priority, inputs: step.inputs, variables: variables,
                          maxAttempts: step.onFailure == .retry ? step.retries.map { $0 + 1 } : nil)
    }

    var steps: [FlowStepSnapshot] {
        zip(definition.steps, progress.steps).enumerated().map { index, pair in
            FlowStepSnapshot(id: String(index + 1), bot: pair.0.bot, state: pair.1.state, onFailure: pair.0.onFailure,
                             jobID: pair.1.jobID, failureKind: pair.1.failureKind, reason: pair.1.reason)
        }
    }

    /// A step's position is its 1-based number.
    private static func index(_ position: String) -> Int? { Int(position).map { $0 - 1 } }

    /// Starts what may start now, and ends the run when nothing runs and nothing more will.
    private mutating func advance() -> [FlowDecision] {
        guard !progress.state.isTerminal else { return [] }
        var decisions: [FlowDecision] = []
        if progress.state == .running && progress.stoppedBy == nil {
            while progress.blockingStep == nil && progress.nextStep < definition.steps.count {
                let index = progress.nextStep
                progress.nextStep += 1
                progress.steps[index].state = .running
                decisions.append(.start(at: String(index + 1), variables: [:]))
                if definition.steps[index].onFailure == .continue {
                    progress.outstanding += 1
                } else {
                    progress.blockingStep = index
                }
            }
        }
        let startsNoMore = progress.stoppedBy != nil || progress.nextStep == definition.steps.count
        if startsNoMore && progress.blockingStep == nil && progress.outstanding == 0 {
            progress.state = progress.stoppedBy == nil ? .succeeded : .failed
            if progress.stoppedBy == nil { progress.reason = nil }
            skipWaitingSteps()
        }
        return decisions
    }

    private mutating func skipWaitingSteps() {
        for index in progress.steps.indices where progress.steps[index].state == .waiting {
            progress.steps[index].state = .skipped
        }
    }

    /// A failed or cancelled job's ending, in words.
    static func describe(_ ending: JobEnding) -> String {
        let why = ending.reason.map { ": \($0)" } ?? ""
        switch ending.result {
        case .succeeded: return "succeeded"
        case .failed(let kind): return "failed (\(kind.rawValue) failure)\(why)"
        case .cancelled: return "was cancelled\(why)"
        }
    }
}
