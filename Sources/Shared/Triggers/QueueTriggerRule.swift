/// How many jobs a queue trigger starts. Pure: the store gives it the counts and starts the jobs.
///
/// `uipath` is UiPath Orchestrator's documented algorithm:
/// - the jobs that count: pending ones (`pendingJobsStrategy` true) or pending and running ones (false);
/// - capacity = maxConcurrentJobs − counted;
/// - desired = 0 below `minItemsToTrigger`, else 1 + (ready − minimum) ÷ itemsPerJob;
/// - start max(0, min(desired − counted, capacity)).
///
/// Counting only pending jobs starts jobs for items that running jobs are about to claim
/// (over-scheduling), and lets running jobs exceed the maximum. Counting running jobs too sets
/// every running job against the ready items, though a busy one's item is no longer among them:
/// items that arrive while every job is busy wait for those jobs (under-scheduling) — until one
/// of them ends and the trigger looks again (on reassess, or at the recheck).
///
/// `exact` knows the items the trigger's jobs hold. The minimum and the step apply to the work
/// left — ready items and the items in the jobs' hands — and every live job counts against it:
/// a job on its way to claim stands for an item it will take, a busy job for the item it holds.
/// The maximum counts every live job. It looks again whenever its counts change: a job ends,
/// an item comes back, a postponed item becomes ready. And it keeps the ready items its new jobs
/// were started for until they claim them (``leavesItem(readyItems:jobsOnTheirWay:)``).
public enum QueueTriggerRule {
    public static func evaluate(_ trigger: QueueTriggerDefinition, _ inputs: QueueTriggerInputs) -> QueueTriggerEvaluation {
        let live = inputs.pendingJobs + inputs.runningJobs
        let counted: Int
        let capacity: Int
        let desired: Int
        switch trigger.strategy {
        case .uipath:
            counted = trigger.pendingJobsStrategy ? inputs.pendingJobs : live
            capacity = max(0, trigger.maxConcurrentJobs - counted)
            desired = desiredJobs(trigger, items: inputs.readyItems)
        case .exact:
            counted = live
            capacity = max(0, trigger.maxConcurrentJobs - live)
            desired = inputs.readyItems == 0 ? 0 : desiredJobs(trigger, items: inputs.readyItems + inputs.inProgressItems)
        }
        let wanted = max(0, desired - counted)
        let jobsToStart = min(wanted, capacity)
        return QueueTriggerEvaluation(
            strategy: trigger.strategy, inputs: inputs, desiredJobs: desired, countedJobs: counted, capacity: capacity,
            jobsToStart: jobsToStart,
            reason: reason(trigger, inputs, desired: desired, counted: counted, wanted: wanted, capacity: capacity))
    }

    /// Whether an `exact` trigger lets a claim take an item, when the claimer is not one of the
    /// jobs it started that are still on their way to their first item: only while more items are
    /// ready than such jobs. Each job it starts is started for a ready item, and finds one — a
    /// busy job finishing first, or a bot of its own, does not take the item from it.
    public static func leavesItem(readyItems: Int, jobsOnTheirWay: Int) -> Bool {
        readyItems > jobsOnTheirWay
    }

    /// The jobs `items` call for: 0 below the minimum, else 1 + (items − minimum) ÷ itemsPerJob.
    public static func desiredJobs(_ trigger: QueueTriggerDefinition, items: Int) -> Int {
        items < trigger.minItemsToTrigger ? 0 : 1 + (items - trigger.minItemsToTrigger) / max(1, trigger.itemsPerJob)
    }

    private static func reason(_ trigger: QueueTriggerDefinition, _ inputs: QueueTriggerInputs, desired: Int,
                               counted: Int, wanted: Int, capacity: Int) -> String? {
        let exact = trigger.strategy == .exact
        let items = exact ? inputs.readyItems + inputs.inProgressItems : inputs.readyItems
        let what = exact ? "ready and in-progress items" : "ready items"
        if desired == 0 {
            if exact && inputs.readyItems == 0 { return "no ready items" }
            let deferred = inputs.deferredItems > 0 ? " (\(inputs.deferredItems) postponed items do not count)" : ""
            return "fewer \(what) than minItemsToTrigger (\(items) < \(trigger.minItemsToTrigger))" + deferred
        }
        if wanted == 0 {
            let jobs = trigger.strategy == .uipath && trigger.pendingJobsStrategy ? "pending" : "pending and running"
            return "\(counted) \(jobs) job(s) cover the \(desired) job(s) \(items) \(what) call for"
        }
        if capacity < wanted {
            let counting = trigger.strategy == .uipath && trigger.pendingJobsStrategy ? "pending" : "pending and running"
            let used = trigger.strategy == .exact ? inputs.pendingJobs + inputs.runningJobs : counted
            return capacity == 0
                ? "maximum number of jobs reached (\(used) \(counting) of \(trigger.maxConcurrentJobs))"
                : "maximum number of jobs allows \(capacity) of the \(wanted) wanted (\(used) \(counting) "
                    + "of \(trigger.maxConcurrentJobs))"
        }
        return nil
    }
}
