/// How many jobs a queue trigger starts. Pure: the store gives it the counts and starts the jobs.
///
/// `uipath` is UiPath Orchestrator's documented algorithm:
/// - the jobs that count: pending ones (`pendingJobsStrategy` true) or pending and running ones (false);
/// - capacity = maxConcurrentJobs − counted;
/// - desired = 0 below `minItemsToTrigger`, else 1 + (ready − minimum) ÷ itemsPerJob;
/// - start max(0, min(desired − counted, capacity)).
///
/// Counting only pending jobs starts jobs for items that running jobs are about to claim
/// (over-scheduling); counting running jobs holds back jobs for items that arrive while every
/// running job is busy with an earlier one (under-scheduling, repaired by the next recheck).
///
/// `exact` applies the same minimum, step and maximum to the items nobody has claimed, and takes
/// off only the jobs that hold no item: each of those will claim one of the ready items, while
/// a job busy with an item is not coming for these. The maximum counts every live job.
public enum QueueTriggerRule {
    public static func evaluate(_ trigger: QueueTriggerDefinition, _ inputs: QueueTriggerInputs) -> QueueTriggerEvaluation {
        let live = inputs.pendingJobs + inputs.runningJobs
        let counted: Int
        let capacity: Int
        switch trigger.strategy {
        case .uipath:
            counted = trigger.pendingJobsStrategy ? inputs.pendingJobs : live
            capacity = max(0, trigger.maxConcurrentJobs - counted)
        case .exact:
            counted = inputs.jobsHoldingNoItem
            capacity = max(0, trigger.maxConcurrentJobs - live)
        }
        let desired = desiredJobs(trigger, readyItems: inputs.readyItems)
        let wanted = max(0, desired - counted)
        let jobsToStart = min(wanted, capacity)
        return QueueTriggerEvaluation(
            strategy: trigger.strategy, inputs: inputs, desiredJobs: desired, countedJobs: counted, capacity: capacity,
            jobsToStart: jobsToStart,
            reason: reason(trigger, inputs, desired: desired, counted: counted, wanted: wanted, capacity: capacity))
    }

    /// The jobs `readyItems` call for: 0 below the minimum, else 1 + (ready − minimum) ÷ itemsPerJob.
    public static func desiredJobs(_ trigger: QueueTriggerDefinition, readyItems: Int) -> Int {
        readyItems < trigger.minItemsToTrigger
            ? 0 : 1 + (readyItems - trigger.minItemsToTrigger) / max(1, trigger.itemsPerJob)
    }

    private static func reason(_ trigger: QueueTriggerDefinition, _ inputs: QueueTriggerInputs, desired: Int,
                               counted: Int, wanted: Int, capacity: Int) -> String? {
        if desired == 0 {
            let deferred = inputs.deferredItems > 0 ? " (\(inputs.deferredItems) postponed items do not count)" : ""
            return "fewer ready items than minItemsToTrigger (\(inputs.readyItems) < \(trigger.minItemsToTrigger))"
                + deferred
        }
        if wanted == 0 {
            let jobs = switch (trigger.strategy, trigger.pendingJobsStrategy) {
            case (.exact, _): "job(s) holding no item yet"
            case (.uipath, true): "pending job(s)"
            case (.uipath, false): "pending and running job(s)"
            }
            return "\(counted) \(jobs) cover the \(desired) job(s) \(inputs.readyItems) ready items call for"
        }
        if capacity < wanted {
            let counting = trigger.strategy == .uipath && trigger.pendingJobsStrategy ? "pending" : "pending and running"
            let used = trigger.maxConcurrentJobs - capacity
            return capacity == 0
                ? "maximum number of jobs reached (\(used) \(counting) of \(trigger.maxConcurrentJobs))"
                : "maximum number of jobs allows \(capacity) of the \(wanted) wanted (\(used) \(counting) "
                    + "of \(trigger.maxConcurrentJobs))"
        }
        return nil
    }
}
