/// Where a job stands. See the state diagram in README.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Stored, not yet confirmed by the broker.
    case pending
    /// Confirmed by the broker, waiting in a job queue.
    case queued
    case running
    case paused
    /// Waiting in the delayed retry exchange for its next attempt.
    case retrying
    case succeeded
    case failed
    case cancelled
    /// Attempts exhausted, or a message that can never run; parked in `botyard.dead`.
    case dead
    /// A synchronous or bounded launch that found no slot.
    case rejected

    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled, .dead, .rejected: true
        case .pending, .queued, .running, .paused, .retrying: false
        }
    }

    /// Whether a job may move from this state to `next`.
    ///
    /// Events can arrive out of order (a worker's `started` may be applied before the
    /// broker's confirm marks the job `queued`), so the waiting states may jump ahead.
    public func canTransition(to next: JobState) -> Bool {
        if isTerminal { return false }
        switch (self, next) {
        case (.pending, .queued): return true
        case (.pending, .running), (.queued, .running), (.retrying, .running): return true
        case (.running, .paused), (.paused, .running): return true
        // A rerun: the broker redelivered the job after the worker running it was lost.
        case (.running, .running): return true
        // A worker shutting down handed the job back to its queue.
        case (.running, .queued), (.paused, .queued): return true
        case (.running, .retrying), (.paused, .retrying): return true
        // A targeted launch went back to the robot queue: its runtime failed to start on the
        // account, or its host was lost before it started.
        case (.running, .pending), (.queued, .pending): return true
        case (_, .succeeded), (_, .failed), (_, .dead), (_, .cancelled): return true
        case (.pending, .rejected): return true
        default: return false
        }
    }
}
