import Shared

/// What happens to a run: the engine's input.
enum FlowEvent: Equatable, Sendable {
    case start
    /// The job at a step (its 1-based number) or node (its id) ended.
    case jobEnded(at: String, JobEnding)
    case pause
    case resume
    case cancel(reason: String)
}

/// What a run's engine decided must happen: the store carries it out in the same transaction.
enum FlowDecision: Equatable, Sendable {
    /// Start the job of a step or node, with these variables (`BOTYARD_VAR_<KEY>`).
    case start(at: String, variables: [String: String])
    /// Stop the job (its bot, if it runs) and end it `cancelled`.
    case cancelJob(Int64)
}

/// The job a step or node starts.
struct FlowLaunch: Equatable, Sendable {
    var bot: String
    var group: String
    var environment: String
    var priority: Priority
    var inputs: [String: String]
    var variables: [String: String]
    /// Replaces the bot's number of attempts (a pipeline step's `retry N`: N + 1).
    var maxAttempts: Int?
}

/// A pure engine of runs (``PipelineRunMachine``, ``WorkflowRunMachine``): its definition and
/// progress, an event in, decisions out. The store drives every kind through this.
protocol FlowRunMachine: Sendable {
    associatedtype Definition: FlowDefinition
    associatedtype Progress: Codable, Sendable, Equatable

    init(definition: Definition, progress: Progress?)
    var definition: Definition { get }
    var progress: Progress { get }
    var state: FlowRunState { get }
    /// Why the run failed or was cancelled.
    var reason: String? { get }
    /// Pipelines: `continue` jobs not yet reported.
    var outstanding: Int? { get }

    /// Applies `event`; returns what must happen because of it.
    /// - Throws: a ``FlowRunError`` when the run's state does not allow a pause, resume or cancel.
    mutating func handle(_ event: FlowEvent) throws(FlowRunError) -> [FlowDecision]
    /// Records the job that runs a step or node the machine decided to start.
    mutating func attach(jobID: Int64, at position: String)
    /// The job a step or node starts.
    func launch(at position: String, variables: [String: String]) -> FlowLaunch
    /// Each step or node as the engine knows it (the store adds its job's details).
    var steps: [FlowStepSnapshot] { get }
}
