import Shared

/// What a simulation runs: a trigger's settings, the items added to its queue, and the robots and
/// jobs that work on them.
public struct TriggerScenario: Sendable {
    /// A short name to pick the scenario by, e.g. `uipath-bulk`.
    public var name: String
    /// One line saying what the scenario is.
    public var summary: String
    public var robots: Int
    /// Seconds from a robot taking a job to the job's first claim: a bot opening its applications.
    public var jobStartupSeconds: Double
    public var items: [ItemBatch]
    /// The trigger's minimum, maximum, step, reassessment and recheck; each variant sets the strategy.
    public var trigger: QueueTriggerDefinition
    /// Seeds the processing times of batches with jitter.
    public var seed: UInt64

    public init(name: String, summary: String, robots: Int, jobStartupSeconds: Double, items: [ItemBatch],
                trigger: QueueTriggerDefinition, seed: UInt64 = 1) {
        self.name = name
        self.summary = summary
        self.robots = robots
        self.jobStartupSeconds = jobStartupSeconds
        self.items = items
        self.trigger = trigger
        self.seed = seed
    }

    /// A trigger for the scenarios: one queue, one bot, UiPath's defaults unless given.
    public static func trigger(min: Int, max: Int, per: Int, reassessOnJobCompletion: Bool = true,
                               recheckMinutes: Int = 30) -> QueueTriggerDefinition {
        QueueTriggerDefinition(queue: "simulated", bot: "simulated", group: "simulated", minItemsToTrigger: min,
                               maxConcurrentJobs: max, itemsPerJob: per,
                               reassessOnJobCompletion: reassessOnJobCompletion, recheckMinutes: recheckMinutes)
    }

    /// Problems that make this scenario impossible to run, in words; empty when it can run.
    public var problems: [String] {
        var problems: [String] = []
        if robots < 1 { problems.append("robots must be at least 1") }
        if jobStartupSeconds < 0 { problems.append("jobStartupSeconds must not be negative") }
        problems += items.flatMap(\.problems)
        problems += trigger.problems
        return problems
    }
}
