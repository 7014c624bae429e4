import Shared

/// Decides whether a launch is taken in under its admission mode, from the group's jobs in the
/// store and the capacity its workers' heartbeats report. Pure, so that the rules are tested alone.
struct AdmissionDecision {
    /// What the group's active workers can run at once, from their last heartbeats.
    struct Capacity: Equatable {
        var workers = 0
        /// Per worker the smaller of its slots and its served accounts' limits, summed.
        var slots = 0
        /// Per worker the smaller of its slots and its served accounts (one UI bot each), summed.
        var uiSlots = 0

        init(workers: Int = 0, slots: Int = 0, uiSlots: Int = 0) {
            self.workers = workers
            self.slots = slots
            self.uiSlots = uiSlots
        }

        /// The capacity of `group` from `statuses`: active workers only, served accounts only, each
        /// account of a host once, as its newest heartbeat says (a worker killed a moment ago still
        /// looks active beside the one that took its accounts over).
        init(group: String, statuses: [WorkerStatus]) {
            var counted: Set<String> = []
            let active = statuses.filter { $0.group == group && $0.state == .active }
            for worker in active.sorted(by: { $0.lastSeen > $1.lastSeen }) {
                // A held account (a failed cleanup) takes no jobs: no capacity.
                let served = worker.accounts.filter {
                    $0.served && $0.hold == nil && counted.insert("\(worker.host)/\($0.name)").inserted
                }
                workers += 1
                slots += min(worker.slots, served.reduce(0) { $0 + $1.limit })
                uiSlots += min(worker.slots, served.count)
            }
        }
    }

    /// The group's jobs that hold or wait for a slot.
    struct Load: Equatable {
        /// Pending, queued or retrying.
        var waiting = 0
        /// Pending or queued: taken in, about to take a slot.
        var starting = 0
        /// Running or paused: a paused bot keeps its slot and its desktop session.
        var running = 0
        /// UI jobs starting or running.
        var uiStartingOrRunning = 0
    }

    var mode: AdmissionMode
    var needsUI: Bool
    var group: String
    var maxQueued: Int?

    /// Whether this launch can be refused at all: when not (`queue`, or `bounded` without a
    /// `maxQueued`), neither the group's load nor its capacity needs to be read.
    var canRefuse: Bool {
        switch mode {
        case .queue: false
        case .bounded: maxQueued != nil
        case .sync: true
        }
    }

    /// Why the launch is rejected ("No slots available: …"), or nil when it is taken in. `sync`
    /// needs a free slot; `bounded` refuses only with no slot free and `maxQueued` jobs waiting.
    func rejection(capacity: Capacity, load: Load) -> String? {
        switch mode {
        case .queue:
            return nil
        case .bounded:
            guard let maxQueued, load.waiting >= maxQueued, let busy = noFreeSlot(capacity: capacity, load: load)
            else { return nil }
            return "No slots available: \(busy), and the group has its maximum of \(maxQueued) jobs waiting"
        case .sync:
            return noFreeSlot(capacity: capacity, load: load).map { "No slots available: \($0)" }
        }
    }

    /// Why no slot is free now for this launch, or nil when one is: the jobs taken in and running
    /// against the slots the group's workers report (and, for a UI bot, an account without one).
    private func noFreeSlot(capacity: Capacity, load: Load) -> String? {
        guard capacity.workers > 0 else { return "no worker of group \(group) is active" }
        guard load.starting + load.running < capacity.slots else {
            return "all \(capacity.slots) slots of group \(group) are taken"
        }
        if needsUI && load.uiStartingOrRunning >= capacity.uiSlots {
            return "every account of group \(group) runs a UI bot already"
        }
        return nil
    }
}
