import Shared

/// Runs a queue trigger through a scenario on a simulated clock — no real waiting, and the same
/// run every time. Every decision is ``QueueTriggerRule/evaluate(_:_:)``'s, the dispatcher's own.
///
/// The model, kept small on purpose:
/// - The scenario's robots run the trigger's jobs, one each. A job the trigger starts is
///   *pending* until a robot is free (first started, first served), then *running*.
/// - A running job starts up for `jobStartupSeconds` (a bot opening its applications), then loops:
///   it claims the item that has been ready longest, works on it for the item's processing time,
///   completes it and claims again. When no item is ready it ends and frees its robot; a job that
///   ends without ever getting an item was over-scheduled.
/// - An item takes its batch's processing time, varied by its jitter (seeded: the same every run).
/// - Claims are instant and succeed while an item is ready — under `exact`, a job that has had items
///   gets none of those kept for jobs still on their way to their first (as the dispatcher does).
///   No failures, retries or expired leases.
/// - The trigger evaluates when items are added (a bulk add once), when one of its jobs ends (if
///   `reassessOnJobCompletion`, and always for `exact`), when postponed items become ready (`exact`
///   only) and every `recheckMinutes` from the start. A running job past its start-up holds one item
///   (between two items it holds none only for an instant).
public struct TriggerSimulator: Sendable {
    public let scenario: TriggerScenario
    public let variant: TriggerVariant
    /// The scenario's trigger under the variant's strategy.
    public let trigger: QueueTriggerDefinition
    /// Seconds since the start; it only moves forward.
    public private(set) var clock: Double = 0
    public private(set) var items: [SimulatedItem] = []
    public private(set) var jobs: [SimulatedJob] = []
    /// Every evaluation of the trigger, in order.
    public private(set) var decisions: [TriggerDecision] = []
    /// The most jobs pending and running at once.
    public private(set) var peakLiveJobs = 0

    private var events = TimedEventQueue<SimulationEvent>()
    private var readyItems = FIFOQueue<Int>()
    private var pendingJobs = FIFOQueue<Int>()
    private var deferredItems = 0
    private var addsToCome = 0
    private var freeRobots: Int
    private var runningJobs = 0
    private var jobsStartingUp = 0

    /// - Throws: `TriggerScenarioError` naming every problem of a scenario that cannot run.
    public init(scenario: TriggerScenario, variant: TriggerVariant) throws(TriggerScenarioError) {
        let problems = scenario.problems
        guard problems.isEmpty else { throw TriggerScenarioError(scenario: scenario.name, problems: problems) }
        self.scenario = scenario
        self.variant = variant
        trigger = variant.applied(to: scenario.trigger)
        freeRobots = scenario.robots
        var generator = SeededGenerator(seed: scenario.seed)
        for batch in scenario.items {
            for (time, count) in batch.additions {
                for _ in 0..<count {
                    let jitter = batch.processingJitter == 0 ? 0 : batch.processingJitter * generator.nextSigned()
                    items.append(SimulatedItem(addedAt: time, readyAt: time + batch.postponedFor,
                                               processingSeconds: batch.processingSeconds * (1 + jitter)))
                }
                events.schedule(.itemsAdded(items.count - count..<items.count), at: time)
                addsToCome += 1
            }
        }
        events.schedule(.recheck, at: recheckSeconds)
    }

    private var recheckSeconds: Double { Double(trigger.recheckMinutes) * 60 }

    /// Whether an event is still to come.
    public var isFinished: Bool { events.isEmpty }

    /// Handles the next event; false when there is none left.
    @discardableResult
    public mutating func step() -> Bool {
        guard let (time, event) = events.popNext() else { return false }
        clock = time
        switch event {
        case .itemsAdded(let added): add(added)
        case .postponementOver(let ready): makeReady(ready)
        case .startupFinished(let job):
            jobsStartingUp -= 1
            claimNextItem(for: job)
        case .itemFinished(let job):
            completeItem(of: job)
            claimNextItem(for: job)
        case .recheck: recheck()
        }
        return true
    }

    /// Runs until no event is left, or until the clock would pass `horizon` seconds.
    public mutating func run(horizon: Double = 30 * 24 * 3600) -> SimulationReport {
        while let next = events.nextTime, next <= horizon {
            step()
        }
        return report
    }

    public var report: SimulationReport {
        SimulationReport(scenario: scenario.name, variant: variant, items: items, jobs: jobs,
                         peakLiveJobs: peakLiveJobs)
    }

    // MARK: - Events

    private mutating func add(_ added: Range<Int>) {
        addsToCome -= 1
        let readyAt = items[added.lowerBound].readyAt
        if readyAt > clock {
            deferredItems += added.count
            events.schedule(.postponementOver(added), at: readyAt)
        } else {
            added.forEach { readyItems.append($0) }
        }
        evaluate(because: .itemsAdded(added.count))
    }

    private mutating func makeReady(_ ready: Range<Int>) {
        deferredItems -= ready.count
        ready.forEach { readyItems.append($0) }
        // UiPath does not look at postponed items until its next recheck.
        if trigger.strategy == .exact { evaluate(because: .postponementOver) }
    }

    private mutating func claimNextItem(for job: Int) {
        let onItsWay = jobs[job].itemsDone == 0
        if trigger.strategy == .exact && !onItsWay
            && !QueueTriggerRule.leavesItem(readyItems: readyItems.count, jobsOnTheirWay: pendingJobs.count + jobsStartingUp) {
            return end(job)
        }
        guard let item = readyItems.popFirst() else { return end(job) }
        items[item].claims += 1
        items[item].claimedAt = clock
        items[item].claimedBy = job
        jobs[job].holding = item
        events.schedule(.itemFinished(job: job), at: clock + items[item].processingSeconds)
    }

    private mutating func completeItem(of job: Int) {
        guard let item = jobs[job].holding else { return }
        items[item].doneAt = clock
        jobs[job].holding = nil
        jobs[job].itemsDone += 1
    }

    private mutating func end(_ job: Int) {
        jobs[job].endedAt = clock
        runningJobs -= 1
        freeRobots += 1
        giveFreeRobotsToPendingJobs()
        if trigger.reassessOnJobCompletion || trigger.strategy == .exact {
            evaluate(because: .jobEnded(Int64(job + 1)))
        }
    }

    private mutating func recheck() {
        evaluate(because: .recheck)
        // Once nothing is live or still to come, every later recheck would see the same and decide the same.
        if addsToCome > 0 || deferredItems > 0 || pendingJobs.count + runningJobs > 0 {
            events.schedule(.recheck, at: clock + recheckSeconds)
        }
    }

    // MARK: - The trigger and the robots

    private mutating func evaluate(because cause: QueueTriggerCause) {
        let inputs = QueueTriggerInputs(
            readyItems: readyItems.count, deferredItems: deferredItems, inProgressItems: runningJobs - jobsStartingUp,
            pendingJobs: pendingJobs.count, runningJobs: runningJobs)
        let evaluation = QueueTriggerRule.evaluate(trigger, inputs)
        decisions.append(TriggerDecision(time: clock, cause: cause, evaluation: evaluation))
        for _ in 0..<evaluation.jobsToStart {
            jobs.append(SimulatedJob(createdAt: clock))
            pendingJobs.append(jobs.count - 1)
        }
        peakLiveJobs = max(peakLiveJobs, pendingJobs.count + runningJobs)
        giveFreeRobotsToPendingJobs()
    }

    private mutating func giveFreeRobotsToPendingJobs() {
        while freeRobots > 0, let job = pendingJobs.popFirst() {
            freeRobots -= 1
            runningJobs += 1
            jobsStartingUp += 1
            jobs[job].startedAt = clock
            events.schedule(.startupFinished(job: job), at: clock + scenario.jobStartupSeconds)
        }
    }
}
