import Foundation

/// One firing of a schedule as its history shows it: when it was due, when it was handled, and
/// what it started or why it started nothing.
public struct ScheduleFiring: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// A job or a run was started.
        case started
        /// Nothing was started: outside the window, unlikely to end before it closes, or missed
        /// under the `skip` policy.
        case skipped
        /// A job was submitted and refused by its group's admission ("No slots available").
        case refused
        /// Nothing could be started: its bot, pipeline or workflow is gone.
        case failed
    }

    public var id: Int64
    public var schedule: String
    /// The firing's instant (the newest one, when it stands for missed ones).
    public var scheduledFor: Date
    /// When a dispatcher handled it: its lateness is `handledAt − scheduledFor`.
    public var handledAt: Date
    public var outcome: Outcome
    public var reason: String
    /// Firings before it that started nothing of their own (missed while no dispatcher ran).
    public var missedFirings: Int
    public var jobID: Int64?
    public var pipelineRunID: Int64?
    public var workflowRunID: Int64?
    /// The state of what it started, as it is now.
    public var startedState: String?
    /// The bot's (or flow's) measured p90 run time the start was judged by, when it had one.
    public var p90RunSeconds: Double?
    public var windowClosesAt: Date?

    public init(id: Int64, schedule: String, scheduledFor: Date, handledAt: Date, outcome: Outcome, reason: String,
                missedFirings: Int = 0, jobID: Int64? = nil, pipelineRunID: Int64? = nil,
                workflowRunID: Int64? = nil, startedState: String? = nil, p90RunSeconds: Double? = nil,
                windowClosesAt: Date? = nil) {
        self.id = id
        self.schedule = schedule
        self.scheduledFor = scheduledFor
        self.handledAt = handledAt
        self.outcome = outcome
        self.reason = reason
        self.missedFirings = missedFirings
        self.jobID = jobID
        self.pipelineRunID = pipelineRunID
        self.workflowRunID = workflowRunID
        self.startedState = startedState
        self.p90RunSeconds = p90RunSeconds
        self.windowClosesAt = windowClosesAt
    }

    /// How late the firing was handled, in milliseconds.
    public var latenessMilliseconds: Int { Int((handledAt.timeIntervalSince(scheduledFor) * 1000).rounded()) }
}
