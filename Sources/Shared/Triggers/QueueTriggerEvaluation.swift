/// What a queue trigger looks at when it evaluates: its queue's items and its own live jobs.
public struct QueueTriggerInputs: Codable, Sendable, Equatable {
    /// Items in state `new` whose postponement (if any) is over.
    public var readyItems: Int
    /// Items in state `new` still postponed: they never count.
    public var deferredItems: Int
    /// Items in the hands of the trigger's live jobs right now (claimed, not settled), counted
    /// once per job: a busy job stands for one item, however many it holds.
    public var inProgressItems: Int
    /// The trigger's jobs not running yet (stored, queued, waiting for a retry or an account).
    public var pendingJobs: Int
    /// The trigger's jobs running (or paused).
    public var runningJobs: Int

    public init(readyItems: Int, deferredItems: Int = 0, inProgressItems: Int = 0, pendingJobs: Int = 0,
                runningJobs: Int = 0) {
        self.readyItems = readyItems
        self.deferredItems = deferredItems
        self.inProgressItems = inProgressItems
        self.pendingJobs = pendingJobs
        self.runningJobs = runningJobs
    }
}

/// The outcome of one evaluation: how many jobs to start, and how the rule got there.
public struct QueueTriggerEvaluation: Codable, Sendable, Equatable {
    public var strategy: QueueTriggerStrategy
    public var inputs: QueueTriggerInputs
    /// Jobs the ready items call for: 0 below the minimum, else 1 + (ready − minimum) ÷ itemsPerJob.
    public var desiredJobs: Int
    /// The existing jobs taken off the desired number.
    public var countedJobs: Int
    /// Jobs the maximum still allows.
    public var capacity: Int
    public var jobsToStart: Int
    /// Why it starts nothing, or fewer than the items call for.
    public var reason: String?

    public init(strategy: QueueTriggerStrategy, inputs: QueueTriggerInputs, desiredJobs: Int, countedJobs: Int,
                capacity: Int, jobsToStart: Int, reason: String?) {
        self.strategy = strategy
        self.inputs = inputs
        self.desiredJobs = desiredJobs
        self.countedJobs = countedJobs
        self.capacity = capacity
        self.jobsToStart = jobsToStart
        self.reason = reason
    }
}

/// Why a trigger was evaluated.
public enum QueueTriggerCause: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The trigger was created, changed or enabled.
    case saved
    /// Items were added (a bulk add is one evaluation).
    case itemsAdded(Int)
    /// A job of the trigger ended.
    case jobEnded(Int64)
    /// An item came back to the queue (its lease expired, or it is retried).
    case itemReturned
    /// A postponed item's time came.
    case postponementOver
    /// The periodic recheck.
    case recheck

    public var description: String {
        switch self {
        case .saved: "trigger saved"
        case .itemsAdded(let count): count == 1 ? "1 item added" : "\(count) items added"
        case .jobEnded(let job): "job \(job) ended"
        case .itemReturned: "an item came back"
        case .postponementOver: "a postponed item became ready"
        case .recheck: "periodic recheck"
        }
    }
}
