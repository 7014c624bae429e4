import Shared

/// How a job started by a pipeline or workflow ended, as the run's engine sees it.
struct JobEnding: Equatable, Sendable {
    enum Result: Equatable, Sendable {
        case succeeded
        case failed(FailureKind)
        case cancelled
    }

    var result: Result
    var reason: String?
    var outputs: [String: String]

    init(_ result: Result, reason: String? = nil, outputs: [String: String] = [:]) {
        self.result = result
        self.reason = reason
        self.outputs = outputs
    }

    /// A step or node that could not be started at all (its bot was removed since the run began).
    static func notStarted(_ reason: String) -> JobEnding { JobEnding(.failed(.system), reason: reason) }
}
