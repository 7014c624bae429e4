/// What one run of a scenario under one variant came to.
public struct SimulationReport: Sendable, Equatable {
    public var scenario: String
    public var variant: TriggerVariant
    public var jobsStarted: Int
    /// Jobs that started up and ended without getting an item.
    public var overScheduledJobs: Int
    public var peakLiveJobs: Int
    public var itemsDone: Int
    /// Items never done: stranded below the minimum, or still waiting when the run was cut off.
    public var itemsLeft: Int
    /// From ready (added, or its postponement over) to claimed, over the items claimed.
    public var meanWaitSeconds: Double
    public var maxWaitSeconds: Double
    /// From the first item added to the last one done.
    public var totalSeconds: Double
    /// Seconds jobs held robots, start-up included.
    public var robotSeconds: Double

    init(scenario: String, variant: TriggerVariant, items: [SimulatedItem], jobs: [SimulatedJob], peakLiveJobs: Int) {
        self.scenario = scenario
        self.variant = variant
        jobsStarted = jobs.count
        overScheduledJobs = jobs.count(where: \.wasOverScheduled)
        self.peakLiveJobs = peakLiveJobs
        let done = items.compactMap(\.doneAt)
        itemsDone = done.count
        itemsLeft = items.count - done.count
        let waits = items.compactMap(\.waitSeconds)
        meanWaitSeconds = waits.isEmpty ? 0 : waits.reduce(0, +) / Double(waits.count)
        maxWaitSeconds = waits.max() ?? 0
        let firstAdded = items.map(\.addedAt).min() ?? 0
        totalSeconds = max(0, (done.max() ?? firstAdded) - firstAdded)
        robotSeconds = jobs.map(\.robotSeconds).reduce(0, +)
    }
}
