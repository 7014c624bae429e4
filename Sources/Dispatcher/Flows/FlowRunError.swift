import Shared

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
