import Foundation
import Testing

@testable import Shared

/// UiPath's published queue-trigger rules as tables, and where `exact` departs from them.
@Suite("Queue trigger rule")
struct QueueTriggerRuleTests {
    static func trigger(min: Int, max: Int, per: Int, pendingOnly: Bool = false,
                        strategy: QueueTriggerStrategy = .uipath) -> QueueTriggerDefinition {
        QueueTriggerDefinition(queue: "q", bot: "b", group: "g", minItemsToTrigger: min, maxConcurrentJobs: max,
                               itemsPerJob: per, pendingJobsStrategy: pendingOnly, strategy: strategy)
    }

    /// What happens to the jobs a trigger starts, between two items added one by one.
    enum JobsMeanwhile {
        /// They wait for a robot: still pending at the next add.
        case stayPending
        /// They start but have not claimed an item yet (a bot opening its applications).
        case runWithoutClaiming
    }

    /// Adds items one at a time, evaluating after each; the total of jobs started after each add.
    static func jobsAfterEachItem(_ trigger: QueueTriggerDefinition, items: Int, _ meanwhile: JobsMeanwhile) -> [Int] {
        var pending = 0
        var running = 0
        var started = 0
        return (1...items).map { ready in
            let evaluation = QueueTriggerRule.evaluate(trigger, QueueTriggerInputs(
                readyItems: ready, pendingJobs: pending, runningJobs: running))
            started += evaluation.jobsToStart
            switch meanwhile {
            case .stayPending: pending += evaluation.jobsToStart
            case .runWithoutClaiming: running += evaluation.jobsToStart
            }
            return started
        }
    }

    @Test("UiPath: 60 items added in bulk with minimum 31, maximum 3, one job per 10 start 3 jobs at once")
    func bulkAddStartsThree() {
        let evaluation = QueueTriggerRule.evaluate(Self.trigger(min: 31, max: 3, per: 10),
                                                   QueueTriggerInputs(readyItems: 60))
        #expect(evaluation.desiredJobs == 3)
        #expect(evaluation.jobsToStart == 3)
        #expect(evaluation.reason == nil)
    }

    @Test("UiPath: the same items added one by one start a job at the 31st, 41st and 51st item, and no fourth")
    func oneByOneStartsAtThresholds() {
        let started = Self.jobsAfterEachItem(Self.trigger(min: 31, max: 3, per: 10), items: 70, .stayPending)
        #expect(started[29] == 0)
        #expect(started[30] == 1)
        #expect(started[39] == 1 && started[40] == 2)
        #expect(started[49] == 2 && started[50] == 3)
        #expect(started[69] == 3)
    }

    @Test("UiPath: minimum 1, maximum 10, one job per item — job k starts with the k-th new item, up to 10",
          arguments: [false, true])
    func oneJobPerItem(pendingOnly: Bool) {
        let started = Self.jobsAfterEachItem(Self.trigger(min: 1, max: 10, per: 1, pendingOnly: pendingOnly),
                                             items: 12, .stayPending)
        #expect(started == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10])
    }

    @Test("below the minimum nothing starts, and the evaluation says why")
    func belowMinimum() {
        let evaluation = QueueTriggerRule.evaluate(Self.trigger(min: 31, max: 3, per: 10),
                                                   QueueTriggerInputs(readyItems: 30, deferredItems: 20))
        #expect(evaluation.jobsToStart == 0)
        #expect(evaluation.reason == "fewer ready items than minItemsToTrigger (30 < 31) (20 postponed items do not count)")
    }

    @Test("postponed items do not count as new, however many")
    func deferredItemsDoNotCount() {
        for strategy in QueueTriggerStrategy.allCases {
            let evaluation = QueueTriggerRule.evaluate(Self.trigger(min: 1, max: 5, per: 1, strategy: strategy),
                                                       QueueTriggerInputs(readyItems: 0, deferredItems: 500))
            #expect(evaluation.jobsToStart == 0)
        }
    }

    @Test("the maximum caps the jobs started, and a full trigger says 'maximum number of jobs reached'")
    func maximumReached() {
        let capped = QueueTriggerRule.evaluate(Self.trigger(min: 1, max: 5, per: 1),
                                               QueueTriggerInputs(readyItems: 50, pendingJobs: 2))
        #expect(capped.jobsToStart == 3)
        #expect(capped.reason == "maximum number of jobs allows 3 of the 48 wanted (2 pending and running of 5)")
        let full = QueueTriggerRule.evaluate(Self.trigger(min: 1, max: 5, per: 1),
                                             QueueTriggerInputs(readyItems: 50, pendingJobs: 2, runningJobs: 3))
        #expect(full.jobsToStart == 0)
        #expect(full.reason == "maximum number of jobs reached (5 pending and running of 5)")
    }

    // MARK: - The pending-jobs strategy switch

    @Test("UiPath, pending jobs only: running jobs that have not claimed yet are ignored, so it over-schedules")
    func pendingOnlyOverSchedules() {
        let trigger = Self.trigger(min: 1, max: 10, per: 1, pendingOnly: true)
        let started = Self.jobsAfterEachItem(trigger, items: 4, .runWithoutClaiming)
        // 1 + 2 + 3 + 4: each new item is counted again while the jobs started for it run unclaimed.
        #expect(started == [1, 3, 6, 10])
    }

    @Test("UiPath, pending and running jobs: the same items get one job each")
    func pendingAndRunningDoesNotOverSchedule() {
        let started = Self.jobsAfterEachItem(Self.trigger(min: 1, max: 10, per: 1), items: 4, .runWithoutClaiming)
        #expect(started == [1, 2, 3, 4])
    }

    @Test("UiPath, pending and running jobs: items added while every job is busy wait, however much room is left")
    func pendingAndRunningUnderSchedules() {
        // Five running jobs, each busy with an item; five more items arrive in bulk.
        let inputs = QueueTriggerInputs(readyItems: 5, inProgressItems: 5, runningJobs: 5)
        let evaluation = QueueTriggerRule.evaluate(Self.trigger(min: 1, max: 10, per: 1), inputs)
        #expect(evaluation.jobsToStart == 0)
        #expect(evaluation.reason == "5 pending and running job(s) cover the 5 job(s) 5 ready items call for")
        #expect(QueueTriggerRule.evaluate(Self.trigger(min: 1, max: 10, per: 1, pendingOnly: true), inputs)
            .jobsToStart == 5)
    }

    @Test("UiPath, pending jobs only: running jobs do not count against the maximum either")
    func pendingOnlyExceedsTheMaximum() {
        let evaluation = QueueTriggerRule.evaluate(Self.trigger(min: 1, max: 3, per: 1, pendingOnly: true),
                                                   QueueTriggerInputs(readyItems: 3, runningJobs: 3))
        #expect(evaluation.jobsToStart == 3, "6 live jobs under a maximum of 3")
    }

    // MARK: - exact

    @Test("exact: jobs still on their way to an item count, so it never over-schedules where pending-only does")
    func exactCountsJobsOnTheirWay() {
        let trigger = Self.trigger(min: 1, max: 10, per: 1, strategy: .exact)
        #expect(Self.jobsAfterEachItem(trigger, items: 4, .runWithoutClaiming) == [1, 2, 3, 4])
    }

    @Test("exact: a job busy with an item stands for that item, not for the new ones, within the maximum")
    func exactStartsForItemsBusyJobsCannotTake() {
        let trigger = Self.trigger(min: 1, max: 8, per: 1, strategy: .exact)
        let evaluation = QueueTriggerRule.evaluate(trigger, QueueTriggerInputs(
            readyItems: 5, inProgressItems: 5, runningJobs: 5))
        #expect(evaluation.desiredJobs == 10)
        #expect(evaluation.jobsToStart == 3)
        #expect(evaluation.reason == "maximum number of jobs allows 3 of the 5 wanted (5 pending and running of 8)")
    }

    @Test("exact: the minimum and the step apply to the work left — ready items and those in the jobs' hands")
    func exactUsesTheSameSteps() {
        let trigger = Self.trigger(min: 31, max: 3, per: 10, strategy: .exact)
        #expect(QueueTriggerRule.evaluate(trigger, QueueTriggerInputs(readyItems: 60)).jobsToStart == 3)
        #expect(QueueTriggerRule.evaluate(trigger, QueueTriggerInputs(readyItems: 30)).jobsToStart == 0)
        // UiPath's one-by-one example: the 34th item, one job busy with one of them — still one job's worth.
        let busy = QueueTriggerRule.evaluate(trigger, QueueTriggerInputs(readyItems: 33, inProgressItems: 1,
                                                                         runningJobs: 1))
        #expect(busy.jobsToStart == 0)
        #expect(busy.reason == "1 pending and running job(s) cover the 1 job(s) 34 ready and in-progress items call for")
        #expect(QueueTriggerRule.evaluate(trigger, QueueTriggerInputs(readyItems: 40, inProgressItems: 1,
                                                                      runningJobs: 1)).jobsToStart == 1)
    }

    @Test("exact: with no ready item it starts nothing, however many items the jobs hold")
    func exactNeedsAReadyItem() {
        let evaluation = QueueTriggerRule.evaluate(Self.trigger(min: 1, max: 8, per: 1, strategy: .exact),
                                                   QueueTriggerInputs(readyItems: 0, inProgressItems: 5, runningJobs: 2))
        #expect(evaluation.jobsToStart == 0 && evaluation.reason == "no ready items")
    }

    // MARK: - Definitions

    @Test("a definition needs a bot and a group; everything else has UiPath's defaults")
    func decodingDefaults() throws {
        let trigger = try JSONCodec.decode(QueueTriggerDefinition.self, from: Data(#"{"bot": "b", "group": "g"}"#.utf8))
        #expect(trigger.minItemsToTrigger == 1 && trigger.maxConcurrentJobs == 1 && trigger.itemsPerJob == 1)
        #expect(trigger.recheckMinutes == 30 && trigger.reassessOnJobCompletion && !trigger.pendingJobsStrategy)
        #expect(trigger.strategy == .exact && trigger.enabled)
    }

    @Test("an unusable definition names every problem, a recheck under 10 minutes among them")
    func validation() {
        var trigger = Self.trigger(min: 0, max: 0, per: 0)
        trigger.recheckMinutes = 5
        trigger.environment = "qa"
        #expect(trigger.problems == [
            "environment must be one of dev, staging, prod",
            "minItemsToTrigger must be between 1 and 1000000",
            "maxConcurrentJobs must be between 1 and 10000",
            "itemsPerJob must be between 1 and 1000000",
            "recheckMinutes must be between 10 and 1440",
        ])
        #expect(Self.trigger(min: 1, max: 1, per: 1).problems.isEmpty)
    }

    @Test("the jobs get the queue's name as input QUEUE unless the trigger sets it")
    func queueInput() {
        var trigger = Self.trigger(min: 1, max: 1, per: 1)
        #expect(trigger.jobInputs == ["QUEUE": "q"])
        trigger.inputs = ["QUEUE": "other", "MODE": "fast"]
        #expect(trigger.jobInputs == ["QUEUE": "other", "MODE": "fast"])
    }
}
