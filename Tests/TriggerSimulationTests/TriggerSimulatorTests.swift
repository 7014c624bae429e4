import Shared
import Testing

@testable import TriggerSimulation

@Suite("Trigger simulator")
struct TriggerSimulatorTests {
    static func scenario(robots: Int = 10, startup: Double, items: [ItemBatch], min: Int = 1, max: Int = 10,
                         per: Int = 1, reassess: Bool = true) -> TriggerScenario {
        TriggerScenario(
            name: "test", summary: "", robots: robots, jobStartupSeconds: startup, items: items,
            trigger: TriggerScenario.trigger(min: min, max: max, per: per, reassessOnJobCompletion: reassess))
    }

    static func run(_ scenario: TriggerScenario, _ variant: TriggerVariant) throws -> TriggerSimulator {
        var simulator = try TriggerSimulator(scenario: scenario, variant: variant)
        _ = simulator.run()
        return simulator
    }

    @Test("UiPath: 60 items in one bulk add with minimum 31, maximum 3, one job per 10 start 3 jobs in every variant",
          arguments: TriggerVariant.allCases)
    func bulkStartsThree(variant: TriggerVariant) throws {
        let scenario = Self.scenario(robots: 5, startup: 30, items: [.bulk(60, processingSeconds: 60)], min: 31,
                                     max: 3, per: 10)
        let simulator = try Self.run(scenario, variant)
        let report = simulator.report
        #expect(report.jobsStarted == 3 && report.overScheduledJobs == 0 && report.itemsDone == 60)
        #expect(simulator.decisions.first?.evaluation.jobsToStart == 3)
        // 3 jobs, 20 items each: start-up 30 s, then 20 minutes.
        #expect(report.totalSeconds == 30 + 20 * 60)
    }

    /// UiPath's example, items added one every 10 s, with jobs that take an hour to start up.
    static let uipathOneByOne = scenario(
        robots: 5, startup: 3_600, items: [.oneByOne(60, every: 10, processingSeconds: 60)], min: 31, max: 3, per: 10)

    @Test("UiPath: items added one by one while the jobs start up start a job at the 31st, 41st and 51st item",
          arguments: [TriggerVariant.uipathPendingAndRunning, .exact])
    func oneByOneStartsAtThresholds(variant: TriggerVariant) throws {
        let simulator = try Self.run(Self.uipathOneByOne, variant)
        #expect(simulator.jobs.map(\.createdAt) == [300, 400, 500])
        #expect(simulator.report.overScheduledJobs == 0)
    }

    @Test("UiPath, pending only: the same items start a job per item while robots are free, and some that find none")
    func oneByOnePendingOnly() throws {
        let simulator = try Self.run(Self.uipathOneByOne, .uipathPendingOnly)
        // Items 31–35 each start a job that runs at once (running jobs do not count); the 36th a job that waits for
        // a robot, then the 41st and the 51st one more each. The three that waited find the queue empty.
        #expect(simulator.jobs.map(\.createdAt) == [300, 310, 320, 330, 340, 350, 400, 500])
        #expect(simulator.report.overScheduledJobs == 3)
        #expect(simulator.report.peakLiveJobs == 8)
    }

    /// Twelve items, one every 10 s, each taking 10 minutes; jobs take a minute to start up.
    static let slowClaimTrickle = scenario(startup: 60, items: [.oneByOne(12, every: 10, processingSeconds: 600)])

    @Test("slow claims: pending only starts jobs that find no item, pending+running holds jobs back, exact neither",
          arguments: TriggerVariant.allCases)
    func slowClaimTrickle(variant: TriggerVariant) throws {
        let report = try Self.run(Self.slowClaimTrickle, variant).report
        #expect(report.itemsDone == 12)
        switch variant {
        case .uipathPendingOnly:
            #expect(report.jobsStarted > 12)
            #expect(report.overScheduledJobs > 0)
        case .uipathPendingAndRunning:
            // From the 8th item on, the 7 jobs (one holding an item, six starting up) count against 7 ready items.
            #expect(report.jobsStarted == 7 && report.overScheduledJobs == 0)
        case .exact:
            // Only the six jobs starting up count: one job per item up to the maximum, each of which gets one.
            #expect(report.jobsStarted == 10 && report.overScheduledJobs == 0)
        }
    }

    @Test("exact starts a job for an item added while every job is busy; counting running jobs does not")
    func busyJobs() throws {
        // One job busy for 10 minutes with the first item; a second item arrives after a minute.
        let scenario = Self.scenario(startup: 0, items: [.oneByOne(2, every: 60, processingSeconds: 600)])
        let exact = try Self.run(scenario, .exact)
        #expect(exact.jobs.map(\.createdAt) == [0, 60])
        #expect(exact.items.map(\.waitSeconds) == [0, 0])
        let counting = try Self.run(scenario, .uipathPendingAndRunning)
        #expect(counting.jobs.map(\.createdAt) == [0])
        #expect(counting.items.map(\.waitSeconds) == [0, 540])
    }

    @Test("exact keeps a new job's item when a busy job finishes before it has started up; pending-only does not")
    func exactRace() throws {
        // The first job finishes at 10 min, before the job started at 9:30 for the second item is up (at 10:30).
        let scenario = Self.scenario(startup: 60, items: [.oneByOne(2, every: 570, processingSeconds: 540)])
        let exact = try Self.run(scenario, .exact)
        #expect(exact.report.jobsStarted == 2 && exact.report.overScheduledJobs == 0)
        #expect(exact.jobs.map(\.itemsDone) == [1, 1], "the busy job ended at 10 min; the new one took its item")
        let pendingOnly = try Self.run(scenario, .uipathPendingOnly).report
        #expect(pendingOnly.jobsStarted == 2 && pendingOnly.overScheduledJobs == 1)
    }

    @Test("postponed items: exact starts jobs when they become ready, uipath at its next recheck",
          arguments: TriggerVariant.allCases)
    func postponedItems(variant: TriggerVariant) throws {
        let scenario = Self.scenario(startup: 0, items: [.bulk(5, postponedFor: 600, processingSeconds: 60)])
        let simulator = try Self.run(scenario, variant)
        #expect(simulator.jobs.first?.createdAt == (variant == .exact ? 600 : 1_800))
        #expect(simulator.decisions.first?.evaluation.inputs == QueueTriggerInputs(readyItems: 0, deferredItems: 5))
        #expect(simulator.report.itemsDone == 5)
    }

    @Test("a job's end is evaluated with reassessOnJobCompletion, and always under exact",
          arguments: TriggerVariant.allCases, [false, true])
    func reassessment(variant: TriggerVariant, reassess: Bool) throws {
        let scenario = Self.scenario(startup: 0, items: [.bulk(2, processingSeconds: 60)], reassess: reassess)
        let simulator = try Self.run(scenario, variant)
        let evaluatedEnds = simulator.decisions.contains {
            if case .jobEnded = $0.cause { true } else { false }
        }
        #expect(evaluatedEnds == (reassess || variant == .exact))
    }

    @Test("one robot, one job: the wait, total and robot time add up by hand")
    func metricsByHand() throws {
        let scenario = Self.scenario(robots: 1, startup: 10, items: [.bulk(2, processingSeconds: 5)], max: 1)
        let report = try Self.run(scenario, .exact).report
        // Claimed at 10 and 15, done at 15 and 20; the job ends at 20.
        #expect(report.jobsStarted == 1)
        #expect(report.meanWaitSeconds == 12.5 && report.maxWaitSeconds == 15)
        #expect(report.totalSeconds == 20 && report.robotSeconds == 20)
    }

    @Test("jobs wait for a robot in the order they were started; under pending-only the first ones take every item meanwhile")
    func robotsAreFIFO() throws {
        let scenario = Self.scenario(robots: 2, startup: 10, items: [.bulk(4, processingSeconds: 100)], max: 4)
        let pendingOnly = try Self.run(scenario, .uipathPendingOnly)
        // Jobs 1 and 2 do items 1–2, then 3–4, and end at 210; jobs 3 and 4 get the robots then and find nothing.
        #expect(pendingOnly.jobs.map(\.startedAt) == [0, 0, 210, 210])
        #expect(pendingOnly.report.overScheduledJobs == 2)
        // exact keeps items 3–4 for jobs 3 and 4: jobs 1 and 2 end after one item each, at 110.
        let exact = try Self.run(scenario, .exact)
        #expect(exact.jobs.map(\.startedAt) == [0, 0, 110, 110])
        #expect(exact.report.overScheduledJobs == 0)
    }

    @Test("items below the minimum stay in the queue, and the run still ends")
    func strandedItems() throws {
        let scenario = Self.scenario(startup: 0, items: [.bulk(3, processingSeconds: 60)], min: 5)
        for variant in TriggerVariant.allCases {
            var simulator = try TriggerSimulator(scenario: scenario, variant: variant)
            let report = simulator.run()
            #expect(simulator.isFinished)
            #expect(report.jobsStarted == 0 && report.itemsLeft == 3)
        }
    }

    @Test("every item of every catalog scenario is claimed once and done once, after it was ready",
          arguments: TriggerScenario.catalog.map(\.name))
    func everyItemDoneOnce(name: String) throws {
        let scenario = try #require(TriggerScenario.named(name))
        for variant in TriggerVariant.allCases {
            let simulator = try Self.run(scenario, variant)
            #expect(simulator.items.allSatisfy { $0.claims == 1 })
            #expect(simulator.items.allSatisfy { item in
                guard let claimedAt = item.claimedAt, let doneAt = item.doneAt else { return false }
                return item.readyAt <= claimedAt && claimedAt + item.processingSeconds == doneAt
            })
            #expect(simulator.jobs.map(\.itemsDone).reduce(0, +) == simulator.items.count)
            #expect(simulator.jobs.allSatisfy { $0.endedAt != nil && $0.holding == nil })
            #expect(simulator.report.peakLiveJobs <= scenario.trigger.maxConcurrentJobs
                || variant == .uipathPendingOnly)
        }
    }

    @Test("the clock never goes backward", arguments: TriggerScenario.catalog.map(\.name))
    func clockMovesForward(name: String) throws {
        let scenario = try #require(TriggerScenario.named(name))
        for variant in TriggerVariant.allCases {
            var simulator = try TriggerSimulator(scenario: scenario, variant: variant)
            var last = simulator.clock
            while simulator.step() {
                #expect(simulator.clock >= last)
                last = simulator.clock
            }
        }
    }

    @Test("processing times vary within the jitter, and the same seed gives the same run")
    func seededJitter() throws {
        let scenario = try #require(TriggerScenario.named("long-trickle"))
        let first = try Self.run(scenario, .exact)
        #expect(first.items.allSatisfy { (240...360).contains($0.processingSeconds) })
        #expect(Set(first.items.map(\.processingSeconds)).count > 80)
        #expect(try Self.run(scenario, .exact).report == first.report)
        var reseeded = scenario
        reseeded.seed = 2
        #expect(try Self.run(reseeded, .exact).items.map(\.processingSeconds) != first.items.map(\.processingSeconds))
    }

    @Test("a scenario that cannot run names every problem")
    func invalidScenario() {
        var scenario = Self.scenario(robots: 0, startup: -1, items: [.bulk(-1, processingSeconds: 1)])
        scenario.trigger.maxConcurrentJobs = 0
        #expect(throws: TriggerScenarioError(scenario: "test", problems: [
            "robots must be at least 1", "jobStartupSeconds must not be negative",
            "an item batch cannot have a negative count", "maxConcurrentJobs must be between 1 and 10000",
        ])) {
            try TriggerSimulator(scenario: scenario, variant: .exact)
        }
    }
}
