import Foundation

/// A pipeline or workflow run as the API shows it.
public struct FlowRunSnapshot: Codable, Sendable {
    public var id: Int64
    public var kind: FlowKind
    /// The pipeline's or workflow's name.
    public var name: String
    public var state: FlowRunState
    /// Why it ended (or failed) the way it did.
    public var reason: String?
    public var initiator: String
    /// Pipelines: `continue` jobs started and not yet reported.
    public var outstanding: Int?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    /// Each step (pipelines, in order) or node (workflows, in definition order); on a single run only.
    public var steps: [FlowStepSnapshot]?

    public init(id: Int64, kind: FlowKind, name: String, state: FlowRunState, reason: String?, initiator: String,
                outstanding: Int?, createdAt: Date, updatedAt: Date, finishedAt: Date?, steps: [FlowStepSnapshot]?) {
        self.id = id
        self.kind = kind
        self.name = name
        self.state = state
        self.reason = reason
        self.initiator = initiator
        self.outstanding = outstanding
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.steps = steps
    }
}

/// One step of a pipeline run, or one node of a workflow run, with the job that ran it.
public struct FlowStepSnapshot: Codable, Sendable {
    /// The step's number (1-based) or the node's id.
    public var id: String
    public var bot: String
    public var state: FlowStepState
    /// Pipelines: `stop`, `continue` or `retry`.
    public var onFailure: PipelineStep.OnFailure?
    /// The job that runs or ran it.
    public var jobID: Int64?
    public var jobState: JobState?
    public var attempts: Int?
    public var failureKind: FailureKind?
    public var reason: String?
    /// Workflows: the variables it was started with (`BOTYARD_VAR_<KEY>`).
    public var variables: [String: String]?
    public var outputs: [String: String]?
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(id: String, bot: String, state: FlowStepState, onFailure: PipelineStep.OnFailure? = nil,
                jobID: Int64? = nil, jobState: JobState? = nil, attempts: Int? = nil, failureKind: FailureKind? = nil,
                reason: String? = nil, variables: [String: String]? = nil, outputs: [String: String]? = nil,
                startedAt: Date? = nil, finishedAt: Date? = nil) {
        self.id = id
        self.bot = bot
        self.state = state
        self.onFailure = onFailure
        self.jobID = jobID
        self.jobState = jobState
        self.attempts = attempts
        self.failureKind = failureKind
        self.reason = reason
        self.variables = variables
        self.outputs = outputs
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// `201 Created` answer to `POST /v1/pipelines/{name}/runs` and `/v1/workflows/{name}/runs`.
public struct FlowRunCreated: Codable, Sendable {
    public var id: Int64
    public var state: FlowRunState

    public init(id: Int64, state: FlowRunState) {
        self.id = id
        self.state = state
    }
}

/// `POST …/runs`: who starts the run (optional body).
public struct StartFlowRunRequest: Codable, Sendable {
    public var initiator: String?

    public init(initiator: String? = nil) {
        self.initiator = initiator
    }
}
