import Foundation

/// One evaluation of a queue trigger as the store made it: why, what the rule saw and decided,
/// and the jobs it started.
public struct QueueTriggerReport: Codable, Sendable, Equatable {
    public var at: Date
    /// Why it was evaluated (``QueueTriggerCause``'s description).
    public var cause: String
    public var evaluation: QueueTriggerEvaluation
    public var startedJobs: [Int64]
    /// Why the jobs the rule asked for were not all started: the trigger's bot is gone, its window
    /// holds them back, or its group's launch-admission entry for `queue-trigger` refused one
    /// ("No slots available: …").
    public var problem: String?

    public init(at: Date, cause: String, evaluation: QueueTriggerEvaluation, startedJobs: [Int64],
                problem: String? = nil) {
        self.at = at
        self.cause = cause
        self.evaluation = evaluation
        self.startedJobs = startedJobs
        self.problem = problem
    }
}

/// A queue trigger as the API shows it: its settings, its last evaluation and its next recheck.
public struct QueueTriggerSnapshot: Codable, Sendable {
    public var definition: QueueTriggerDefinition
    public var lastEvaluation: QueueTriggerReport?
    public var nextRecheckAt: Date
    public var createdAt: Date
    public var updatedAt: Date

    public init(definition: QueueTriggerDefinition, lastEvaluation: QueueTriggerReport?, nextRecheckAt: Date,
                createdAt: Date, updatedAt: Date) {
        self.definition = definition
        self.lastEvaluation = lastEvaluation
        self.nextRecheckAt = nextRecheckAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
