import Shared
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Lets the worker steer a running bot from outside: stop it (an operator's cancel, shutdown, a
/// timeout), pause it and resume it. Its timeout counts running time only (``TimeoutBudget``).
///
/// The bot's runner waits here for whatever comes first — the bot's exit (``exited(_:)``, from the
/// worker's ``ChildExitWatcher``), a stop, its timeout — in one suspension: no task of its own for
/// either, and a run that ends on its own is woken once. The runner's waits do not end when its
/// task is cancelled: a running bot is waited for until it has exited.
final class RunControl: Sendable {
    enum StopReason: Sendable, Equatable {
        case timedOut
        case cancelled
        /// The run's message no longer counts (the dispatcher said so); another run is the job's.
        case superseded
        /// The worker is shutting down and hands the job back.
        case shutdown
        /// The job's delivery went back to its queue already (its channel or connection failed, its task was
        /// cancelled): another worker may run the job now, so the bot must not go on.
        case handedBack

        /// Whether the job goes back to its queue rather than being reported finished.
        var handsJobBack: Bool { self == .shutdown || self == .handedBack }
    }

    private struct State {
        var reason: StopReason?
        /// Set once the bot has exited: a stop request after that changes nothing.
        var finished = false
        /// A pause asked for and not resumed; applied to the bot as soon as it is attached.
        var paused = false
        var process: BotProcess?
        var budget: TimeoutBudget?
        /// SIGTERM or SIGKILL was sent to the bot's group: it did not finish on its stop request alone.
        var terminated = false
        /// How the bot ended, once it has (it is not reaped before the runner is done with it).
        var exit: BotProcess.Termination?
    }

    /// What the runner waits for first.
    enum Turn: Sendable, Equatable {
        /// The bot has exited (whether or not a stop was asked for meanwhile).
        case exited(BotProcess.Termination)
        /// The bot must stop, for this reason.
        case stop(StopReason)
    }

    private let state = Mutex(State())
    /// Tells the runner of a change: a stop, a pause or resume, the bot attached or exited.
    private let signal = WakeSignal()
    /// How long a politely stopped bot may take to finish on its own (its bot's `stopGraceSeconds`).
    let stopGrace: Duration

    init(stopGrace: Duration = .zero) {
        self.stopGrace = stopGrace
    }

    /// The bot has started: its timeout clock starts, frozen at once if a pause came first.
    ///
    /// - Parameter pauseLimit: how long the run may spend paused in all; past it the bot is resumed.
    func attach(_ process: BotProcess, timeout: Duration, pauseLimit: Duration? = nil,
                at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.process = process
            var budget = TimeoutBudget(limit: timeout, pauseLimit: pauseLimit, startedAt: now)
            if state.paused && state.reason == nil {
                budget.pause(at: now)
                process.signalGroup(SIGSTOP)
            }
            state.budget = budget
        }
        signal.notify()
    }

    /// Freezes the bot's process group and its timeout clock; false when it is stopping or has ended.
    @discardableResult
    func pause() -> Bool {
        let paused = state.withLock { state -> Bool in
            guard state.reason == nil, !state.finished else { return false }
            state.paused = true
            state.budget?.pause(at: .now)
            // Signalled under the lock, so that a pause and a resume reach the bot in the order given.
            state.process?.signalGroup(SIGSTOP)
            return true
        }
        if paused { signal.notify() }
        return paused
    }

    /// Thaws the bot's process group and its timeout clock; false when it is stopping or has ended.
    @discardableResult
    func resume() -> Bool {
        let resumed = state.withLock { state -> Bool in
            guard state.reason == nil, !state.finished else { return false }
            state.paused = false
            state.budget?.resume(at: .now)
            state.process?.signalGroup(SIGCONT)
            return true
        }
        if resumed { signal.notify() }
        return resumed
    }

    var isPaused: Bool { state.withLock { $0.paused } }

    /// Asks the bot to stop. The first reason given wins; a bot that already ended is not stopped.
    func stop(_ stopReason: StopReason) {
        let first = state.withLock { state -> Bool in
            guard state.reason == nil, !state.finished else { return false }
            state.reason = stopReason
            // The stop sequence continues the group; from now on the bot is not paused.
            state.paused = false
            return true
        }
        if first { signal.notify() }
    }

    /// Records that the bot has exited; returns why it was stopped, if it was.
    func finish() -> StopReason? {
        state.withLock { state in
            state.finished = true
            return state.reason
        }
    }

    /// Notes that the stop sequence sent SIGTERM or SIGKILL.
    func noteTerminated() {
        state.withLock { $0.terminated = true }
    }

    /// Whether the stop sequence had to signal the bot (false: it finished on its stop request alone).
    var wasTerminated: Bool { state.withLock { $0.terminated } }

    /// Why the bot was stopped; stable once ``finish()`` was called.
    var stopReason: StopReason? { state.withLock { $0.reason } }

    /// The bot has exited (told by the exit watcher, on its thread): wakes the runner.
    func exited(_ termination: BotProcess.Termination) {
        state.withLock { $0.exit = termination }
        signal.notify()
    }

    /// How the bot ended, once it has.
    var exitStatus: BotProcess.Termination? { state.withLock { $0.exit } }

    /// Waits for the bot's exit, or for why it must stop: a ``stop(_:)`` request, or `.timedOut` once its
    /// running time (paused time not counted) reaches the timeout given to
    /// ``attach(_:timeout:pauseLimit:at:)``. A bot paused for longer than its pause limit is resumed
    /// meanwhile, and `onPauseLimit` told.
    func waitForExitOrStop(onPauseLimit: () -> Void = {}) async -> Turn {
        while true {
            let now = ContinuousClock.now
            let (exit, reason, clock) = state.withLock { state in
                (state.exit, state.reason,
                 state.budget.map { (running: $0.remaining(at: now), paused: $0.pauseLeft(at: now)) })
            }
            if let exit { return .exited(exit) }
            if let reason { return .stop(reason) }
            switch (clock?.running, clock?.paused) {
            case (let left?, _) where left <= .zero:
                stop(.timedOut)
            case (let left?, _):
                await signal.waitThroughCancellation(timeout: left)
            case (nil, let left?) where left <= .zero:
                if resumeAfterPauseLimit() { onPauseLimit() }
            case (nil, let left?):
                await signal.waitThroughCancellation(timeout: left)
            case (nil, nil):
                // Paused without a cap, or not attached yet: only a pause, resume, attach, stop or exit
                // wakes it (no timer: most runs pass here once, before they are attached).
                await signal.waitThroughCancellation(timeout: nil)
            }
        }
    }

    /// Waits for the bot's exit, for at most `timeout`; nil when it still runs then.
    func waitForExit(upTo timeout: Duration) async -> BotProcess.Termination? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let exit = exitStatus { return exit }
            let left = deadline - .now
            guard left > .zero else { return nil }
            await signal.waitThroughCancellation(timeout: left)
        }
    }

    /// Waits for the bot's exit, however long it takes.
    func waitForExit() async -> BotProcess.Termination {
        while true {
            if let exit = exitStatus { return exit }
            await signal.waitThroughCancellation(timeout: nil)
        }
    }

    /// Resumes a bot whose pause limit has passed; false when it is not paused (any more).
    private func resumeAfterPauseLimit() -> Bool {
        state.withLock { state -> Bool in
            guard state.paused, state.reason == nil, !state.finished else { return false }
            state.paused = false
            state.budget?.resume(at: .now)
            state.process?.signalGroup(SIGCONT)
            return true
        }
    }
}
