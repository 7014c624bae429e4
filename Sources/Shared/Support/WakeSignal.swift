import Synchronization

/// Wakes every waiting task early; a wake with nobody waiting is remembered once.
///
/// The outbox relay waits on it between polls so that a new job is published at once. Any number
/// of tasks may wait at the same time: a ``notify()`` ends all their waits.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waits that began but have not registered their waiter yet.
        var registering: Set<Int> = []
        /// Waits of `registering` that a notification, their timeout or cancellation ended already.
        var released: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func notify() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty || !state.registering.isEmpty else {
                state.pending = true
                return []
            }
            state.released.formUnion(state.registering)
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Notifies every `interval` until cancelled: one timer for a loop that waits without a
    /// timeout but must look again now and then.
    public func notify(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            notify()
        }
    }

    /// Takes a ``notify()`` that came while nobody waited: whether there was one since the last
    /// wait or take. Never waits.
    public func takeNotification() -> Bool {
        state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
    }

    /// Returns after a ``notify()`` or on cancellation, whichever comes first.
    ///
    /// A wait without a timeout costs no timer and no task of its own: a loop that waits on
    /// every piece of news (the event consumer's inbox, the outbox relay) wakes one thread
    /// per wait instead of three.
    public func wait() async {
        guard let id = beginWait() else { return }
        await waitForRelease(id)
    }

    /// Returns after a ``notify()``, after `timeout` (nil: none, as ``wait()``), or on
    /// cancellation, whichever comes first.
    ///
    /// The timeout is an entry of the process's ``DeadlineTimer``, dropped once the wait is over:
    /// no task or timer of its own.
    public func wait(timeout: Duration?) async {
        guard let id = beginWait() else { return }
        let deadline = timeout.map { DeadlineTimer.shared.schedule(after: $0) { [self] in release(id) } }
        await waitForRelease(id)
        if let deadline { DeadlineTimer.shared.cancel(deadline) }
    }

    /// Returns after a ``notify()`` or after `timeout` (nil: none), whichever comes first; the
    /// waiting task's cancellation does not end it. For a waiter that must see its news through: a
    /// run waits for its bot's exit also when its job's task was cancelled.
    public func waitThroughCancellation(timeout: Duration?) async {
        guard let id = beginWait() else { return }
        let deadline = timeout.map { DeadlineTimer.shared.schedule(after: $0) { [self] in release(id) } }
        await suspendUntilReleased(id)
        if let deadline { DeadlineTimer.shared.cancel(deadline) }
    }

    /// Takes a pending notification (nil: the wait is over before it began), else registers a wait.
    private func beginWait() -> Int? {
        state.withLock { state in
            if state.pending {
                state.pending = false
                return nil
            }
            state.nextID += 1
            state.registering.insert(state.nextID)
            return state.nextID
        }
    }

    /// Waits until wait `id` is released: by a notification, its timeout, or cancellation.
    private func waitForRelease(_ id: Int) async {
        await withTaskCancellationHandler {
            await suspendUntilReleased(id)
        } onCancel: {
            self.release(id)
        }
    }

    /// Waits until wait `id` is released by ``release(_:)``.
    private func suspendUntilReleased(_ id: Int) async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                state.registering.remove(id)
                if state.released.remove(id) != nil { return true }
                state.waiters[id] = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Ends wait `id`: resumes its waiter, or marks it released if it has not registered yet.
    private func release(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.registering.contains(id) { state.released.insert(id) }
            return state.waiters.removeValue(forKey: id)
        }
        waiter?.resume()
    }
}
