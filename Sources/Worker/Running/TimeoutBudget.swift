/// The time limit of one run, counted in running time only: the clock stops while the bot is paused
/// (frozen with SIGSTOP), so a bot is never timed out for time it spent frozen.
struct TimeoutBudget: Sendable, Equatable {
    typealias Instant = ContinuousClock.Instant

    let limit: Duration
    /// Running time used before the current stretch.
    private(set) var used: Duration = .zero
    /// When the bot last began to run; nil while it is paused.
    private(set) var runningSince: Instant?

    init(limit: Duration, startedAt start: Instant) {
        self.limit = limit
        self.runningSince = start
    }

    var isPaused: Bool { runningSince == nil }

    /// Stops the clock; pausing a paused budget changes nothing.
    mutating func pause(at now: Instant) {
        guard let since = runningSince else { return }
        used += now - since
        runningSince = nil
    }

    /// Starts the clock again; resuming a running budget changes nothing.
    mutating func resume(at now: Instant) {
        if runningSince == nil { runningSince = now }
    }

    /// Running time left at `now` (zero or less: the time is up); nil while paused (no deadline).
    func remaining(at now: Instant) -> Duration? {
        guard let since = runningSince else { return nil }
        return limit - used - (now - since)
    }
}
