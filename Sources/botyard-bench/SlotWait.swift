import Foundation
import Shared

/// Splits a job's submit → start under load into the wait its worker's slots force and the rest.
///
/// A worker with `slots` slots runs at most that many jobs at once, so its `j`-th start (0-based,
/// in time order) cannot come before its `(j − slots)`-th finish: a slot was free from then on, and
/// the job from its submission. What passes between that moment and the start is the dispatcher's,
/// the broker's and the worker's own doing (publish, delivery, admission, the `started` report),
/// not the queueing.
enum SlotWait {
    /// Milliseconds from when each started job could have started to when it did, for jobs that
    /// ran on workers of `slots` slots each.
    static func beyondQueueing(_ jobs: [JobSnapshot], slots: Int) -> [Double] {
        Dictionary(grouping: jobs.filter { $0.startedAt != nil && $0.workerID != nil }, by: \.workerID)
            .values.flatMap { ran -> [Double] in
                let starts = ran.sorted { $0.startedAt! < $1.startedAt! }
                let finishes = ran.compactMap(\.finishedAt).sorted()
                return starts.enumerated().map { index, job in
                    var possible = job.submittedAt
                    if index >= slots, index - slots < finishes.count {
                        possible = max(possible, finishes[index - slots])
                    }
                    return max(0, job.startedAt!.timeIntervalSince(possible) * 1000)
                }
            }
    }
}
