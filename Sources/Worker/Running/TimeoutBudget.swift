/// The time limit of one run, counted in running time only: the clock stops while the bot is paused
/// (frozen with SIGSTOP), so a bot is never timed out for time it spent frozen.
///
/// The time a run may spend paused is capped too (``pauseLimit``): the broker's `consumer_timeout` counts
/// wall time since the delivery, so a run paused without end would lose its delivery, and every job on its
/// account's channel would run again. Past the cap the bot must be resumed.
struct TimeoutBudget: Sendable, Equatable {
    typealias Instant = ContinuousClock.Instant

    let limit: Duration
    /// Paused time the run may use in all; nil: no cap.
    let pauseLimit: Duration?
    /// Running time used before the current stretch.
    private(set) var used: Duration = .zero
    /// Paused time used before the current pause.
    private(set) var pausedUsed: Duration = .zero
    /// When the bot last began to run; nil while it is paused.
    private(set) var runningSince: Instant?
    /// When the current pause began; nil while the bot runs.
    private(set) var pausedSince: Instant?

    init(limit: Duration, pauseLimit: Duration? = nil, startedAt start: Instant) {
        self.limit = limit
        self.pauseLimit = pauseLimit
        self.runningSince = start
    }

    var isPaused: Bool { runningSince == nil }

    /// Stops the clock; pausing a paused budget changes nothing.
    mutating func pause(at now: Instant) {
        guard let since = runningSince else { return }
        used += now - since
        runningSince = nil
        pausedSince = now
    }

    /// Starts the clock again; resuming a running budget changes nothing.
    mutating func resume(at now: Instant) {
        guard runningSince == nil else { return }
        if let since = pausedSince { pausedUsed += now - since }
        pausedSince = nil
        runningSince = now
    }

    /// Running time left at `now` (zero or less: the time is up); nil while paused (no deadline).
    func remaining(at now: Instant) -> Duration? {
        guard let since = runningSince else { return nil }
        return limit - used - (now - since)
    }

    /// Paused time left at `now` (zero or less: the cap has passed, the bot must be resumed); nil while the
    /// bot runs, or without a cap.
    func pauseLeft(at now: Instant) -> Duration? {
        guard let since = pausedSince, let pauseLimit else { return nil }
        return pauseLimit - pausedUsed - (now - since)
    }
}
