import Shared

/// One evaluation of the trigger during a simulation: when, why, and what the rule said.
public struct TriggerDecision: Sendable, Equatable {
    public var time: Double
    public var cause: QueueTriggerCause
    public var evaluation: QueueTriggerEvaluation
}
