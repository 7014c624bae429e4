/// How a queue trigger decides how many jobs to start.
public enum QueueTriggerStrategy: String, Codable, Sendable, CaseIterable {
    /// UiPath Orchestrator's documented rule, kept exactly, flaws included.
    case uipath
    /// Botyard's rule: it knows which jobs hold an item, so it starts the jobs the unclaimed
    /// ready items need — no job started for an item another job is already on its way to.
    case exact
}

/// A queue trigger: starts jobs of a bot when a work queue has items waiting (one per queue).
public struct QueueTriggerDefinition: Codable, Sendable, Equatable {
    /// The work queue it watches (and its name).
    public var queue: String
    public var bot: String
    public var group: String
    /// Run the jobs under this account only (targeted launches, through the robot queue).
    public var account: String?
    public var environment: String
    public var priority: Priority
    /// The jobs' inputs; `QUEUE` (the queue's name) is added unless given.
    public var inputs: [String: String]
    /// No job starts while fewer ready items wait.
    public var minItemsToTrigger: Int
    /// The most jobs of the trigger at once (which ones count depends on `pendingJobsStrategy`).
    public var maxConcurrentJobs: Int
    /// One more job for each this many ready items beyond the minimum.
    public var itemsPerJob: Int
    /// `uipath` only: true counts only the trigger's pending jobs against the maximum and the
    /// desired number; false counts pending and running ones.
    public var pendingJobsStrategy: Bool
    /// Evaluate again when a job of the trigger ends (`exact` always does).
    public var reassessOnJobCompletion: Bool
    /// Minutes between two periodic evaluations, which find postponed and retried items.
    public var recheckMinutes: Int
    public var strategy: QueueTriggerStrategy
    /// A disabled trigger keeps its settings and starts nothing.
    public var enabled: Bool
    /// Jobs start only inside this window, and only when the bot's p90 run time ends before it
    /// closes (``StartDecision``); read on the clocks of `timeZone`.
    public var window: ActiveWindow?
    /// The IANA zone of `window`.
    public var timeZone: String

    public init(queue: String, bot: String, group: String, account: String? = nil, environment: String = "prod",
                priority: Priority = .normal, inputs: [String: String] = [:], minItemsToTrigger: Int = 1,
                maxConcurrentJobs: Int = 1, itemsPerJob: Int = 1, pendingJobsStrategy: Bool = false,
                reassessOnJobCompletion: Bool = true, recheckMinutes: Int = 30, strategy: QueueTriggerStrategy = .exact,
                enabled: Bool = true, window: ActiveWindow? = nil, timeZone: String = "UTC") {
        self.queue = queue
        self.bot = bot
        self.group = group
        self.account = account
        self.environment = environment
        self.priority = priority
        self.inputs = inputs
        self.minItemsToTrigger = minItemsToTrigger
        self.maxConcurrentJobs = maxConcurrentJobs
        self.itemsPerJob = itemsPerJob
        self.pendingJobsStrategy = pendingJobsStrategy
        self.reassessOnJobCompletion = reassessOnJobCompletion
        self.recheckMinutes = recheckMinutes
        self.strategy = strategy
        self.enabled = enabled
        self.window = window
        self.timeZone = timeZone
    }

    /// Every field but `bot` and `group` may be left out (`queue` too, when the path names it).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = QueueTriggerDefinition(queue: "", bot: "", group: "")
        func value<Value: Decodable>(_ key: CodingKeys, _ fallback: Value) throws -> Value {
            try container.decodeIfPresent(Value.self, forKey: key) ?? fallback
        }
        self.init(
            queue: try value(.queue, ""), bot: try container.decode(String.self, forKey: .bot),
            group: try container.decode(String.self, forKey: .group),
            account: try container.decodeIfPresent(String.self, forKey: .account),
            environment: try value(.environment, defaults.environment), priority: try value(.priority, defaults.priority),
            inputs: try value(.inputs, defaults.inputs),
            minItemsToTrigger: try value(.minItemsToTrigger, defaults.minItemsToTrigger),
            maxConcurrentJobs: try value(.maxConcurrentJobs, defaults.maxConcurrentJobs),
            itemsPerJob: try value(.itemsPerJob, defaults.itemsPerJob),
            pendingJobsStrategy: try value(.pendingJobsStrategy, defaults.pendingJobsStrategy),
            reassessOnJobCompletion: try value(.reassessOnJobCompletion, defaults.reassessOnJobCompletion),
            recheckMinutes: try value(.recheckMinutes, defaults.recheckMinutes),
            strategy: try value(.strategy, defaults.strategy), enabled: try value(.enabled, defaults.enabled),
            window: try container.decodeIfPresent(ActiveWindow.self, forKey: .window),
            timeZone: try value(.timeZone, defaults.timeZone))
    }

    public static let minimumRecheckMinutes = 10
    public static let maximumRecheckMinutes = 24 * 60
    public static let maximumJobs = 10_000
    public static let maximumItems = 1_000_000

    /// The inputs its jobs get: the trigger's own, and the queue's name as `QUEUE`.
    public var jobInputs: [String: String] {
        inputs["QUEUE"] == nil ? inputs.merging(["QUEUE": queue]) { own, _ in own } : inputs
    }

    /// Problems that make this definition unusable, in words; empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(queue) { problems.append("queue must be a valid name") }
        if !Names.isValid(bot) { problems.append("bot must be a valid name") }
        if !Names.isValidGroup(group) { problems.append(Names.groupRule) }
        if let account, !Names.isValidAccount(account) { problems.append(Names.accountRule) }
        if !SubmitJobRequest.environments.contains(environment) {
            problems.append("environment must be one of dev, staging, prod")
        }
        problems += InputRules.problems(inputs)
        if !(1...Self.maximumItems).contains(minItemsToTrigger) {
            problems.append("minItemsToTrigger must be between 1 and \(Self.maximumItems)")
        }
        if !(1...Self.maximumJobs).contains(maxConcurrentJobs) {
            problems.append("maxConcurrentJobs must be between 1 and \(Self.maximumJobs)")
        }
        if !(1...Self.maximumItems).contains(itemsPerJob) {
            problems.append("itemsPerJob must be between 1 and \(Self.maximumItems)")
        }
        if !(Self.minimumRecheckMinutes...Self.maximumRecheckMinutes).contains(recheckMinutes) {
            problems.append("recheckMinutes must be between \(Self.minimumRecheckMinutes) and \(Self.maximumRecheckMinutes)")
        }
        if let window { problems += window.problems.map { "window: \($0)" } }
        problems += Schedule.timeZoneProblems(timeZone)
        return problems
    }
}
