import Shared

/// What a pipeline step or workflow node is doing, with the job that runs it.
struct FlowStepProgress: Codable, Equatable, Sendable {
    var state: FlowStepState = .waiting
    var jobID: Int64?
    var failureKind: FailureKind?
    var reason: String?

    /// Records how its job ended.
    mutating func record(_ ending: JobEnding) {
        reason = ending.reason
        switch ending.result {
        case .succeeded:
            state = .succeeded
        case .failed(let kind):
            state = .failed
            failureKind = kind
        case .cancelled:
            state = .cancelled
        }
    }
}
