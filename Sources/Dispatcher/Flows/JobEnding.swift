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

/// A request about a run that its state does not allow; the API answers 409 with the code.
struct FlowRunError: Error, Equatable, Sendable {
    enum Code: String, Sendable {
        /// The run has ended: it cannot be paused, resumed or cancelled any more.
        case runEnded = "run_ended"
        /// A pause of a run that is not running (it is paused already).
        case notRunning = "run_not_running"
        /// A resume of a run that is not paused.
        case notPaused = "run_not_paused"
    }

    var code: Code
    var message: String

    static func check(_ state: FlowRunState, allows command: String, from allowed: FlowRunState,
                      otherwise code: Code) throws(FlowRunError) {
        if state.isTerminal { throw FlowRunError(code: .runEnded, message: "the run already ended as \(state.rawValue)") }
        if state != allowed { throw FlowRunError(code: code, message: "cannot \(command) a run that is \(state.rawValue)") }
    }
}

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
