/// Where a pipeline or workflow run stands.
public enum FlowRunState: String, Codable, Sendable, CaseIterable {
    case running
    /// Holds: what runs finishes, nothing new starts until the run is resumed.
    case paused
    case succeeded
    case failed
    case cancelled

    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .running, .paused: false
        }
    }
}

/// Where one pipeline step or workflow node stands.
public enum FlowStepState: String, Codable, Sendable {
    /// Not started yet.
    case waiting
    case running
    case succeeded
    case failed
    /// Its job was cancelled (the run's cancel, or an operator's).
    case cancelled
    /// Never started and never will: the run stopped before it, or none of its incoming edges fired.
    case skipped

    public var isDecided: Bool {
        switch self {
        case .succeeded, .failed, .cancelled, .skipped: true
        case .waiting, .running: false
        }
    }
}

/// An operator's order to a run: `POST /v1/pipeline-runs/{id}/<command>` (or `workflow-runs`).
public enum FlowCommand: String, Codable, Sendable, CaseIterable {
    case pause, resume, cancel
}
