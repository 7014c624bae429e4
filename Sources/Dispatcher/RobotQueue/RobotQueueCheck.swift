import Shared

/// Decides whether a targeted launch (an account, perhaps a host) can start now, and where; or
/// why not, in words, for the robot queue. Pure: the store gathers the facts.
struct RobotQueueCheck {
    /// What holds or is about to hold the account on one host (from the store, exact).
    struct AccountLoad: Equatable {
        /// Jobs running on the account, or dispatched to it and not started yet.
        var jobs = 0
        /// Of those, UI bots.
        var uiJobs = 0
    }

    enum Verdict: Equatable {
        case dispatch(host: String)
        case wait(reason: String)
    }

    var group: String
    var host: String?
    var account: String
    var needsUI: Bool

    /// - Parameters:
    ///   - workers: the group's workers as their heartbeats show them.
    ///   - hasCredential: whether the account has a stored credential on a host.
    ///   - load: what holds the account on a host.
    func verdict(workers: [WorkerStatus], hasCredential: (String) -> Bool, load: (String) -> AccountLoad) -> Verdict {
        let active = workers.filter { $0.group == group && $0.state == .active && (host == nil || $0.host == host) }
        let place = host.map { "host \($0)" } ?? "any active host of group \(group)"
        guard !active.isEmpty else {
            return .wait(reason: host.map { "host \($0) is not active" } ?? "no host of group \(group) is active")
        }
        let listing = active.compactMap { worker in worker.accounts.first { $0.name == account }.map { (worker, $0) } }
        guard !listing.isEmpty else { return .wait(reason: "account \(account) is not served on \(place)") }
        let served = listing.filter { $0.1.served }.sorted { $0.0.host < $1.0.host }
        guard !served.isEmpty else {
            return .wait(reason: "account \(account) on \(place) is busy: its worker is taking it over")
        }
        var reasons: [String] = []
        for (worker, status) in served {
            let on = "account \(account) on \(worker.host)"
            let held = load(worker.host)
            if let hold = status.hold {
                reasons.append("\(on) is held: \(hold); an operator must clear it")
            } else if needsUI && !hasCredential(worker.host) {
                reasons.append("missing credentials for \(on)")
            } else if needsUI && held.uiJobs > 0 {
                reasons.append("a UI bot is already running on \(on)")
            } else if held.jobs >= status.limit {
                reasons.append("\(on) is at its limit (\(held.jobs) of \(status.limit) running)")
            } else {
                return .dispatch(host: worker.host)
            }
        }
        return .wait(reason: reasons[0])
    }
}
