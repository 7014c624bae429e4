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

    static func ended(_ state: FlowRunState) -> FlowRunError {
        FlowRunError(code: .runEnded, message: "the run already ended as \(state.rawValue)")
    }
}

/// An operator's pause, resume or cancel, as every kind of run takes it.
extension FlowRunState {
    /// `running` → `paused`.
    mutating func pause() throws(FlowRunError) {
        try require(.running, toBe: "paused", otherwise: .notRunning)
        self = .paused
    }

    /// `paused` → `running`.
    mutating func resume() throws(FlowRunError) {
        try require(.paused, toBe: "resumed", otherwise: .notPaused)
        self = .running
    }

    /// Any state but an ended one → `cancelled`.
    mutating func cancel() throws(FlowRunError) {
        if isTerminal { throw FlowRunError.ended(self) }
        self = .cancelled
    }

    private func require(_ allowed: FlowRunState, toBe done: String, otherwise code: FlowRunError.Code)
        throws(FlowRunError)
    {
        if isTerminal { throw FlowRunError.ended(self) }
        if self != allowed { throw FlowRunError(code: code, message: "a run that is \(rawValue) cannot be \(done)") }
    }
}
