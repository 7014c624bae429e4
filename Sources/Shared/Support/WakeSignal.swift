import Synchronization

/// Wakes one waiting task early; a wake with nobody waiting is remembered once.
///
/// The outbox relay waits on it between polls so that a new job is published at once.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        /// A wait whose timeout or cancellation fired before its waiter was registered.
        var expired: Int?
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Takes a ``notify()`` that came while nobody waited: whether there was one since the last
    /// wait or take. Never waits.
    public func takeNotification() -> Bool {
        state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
    }

    /// Returns after a ``notify()``, after `timeout`, or on cancellation, whichever comes first.
    public func wait(timeout: Duration) async {
        let id: Int? = state.withLock { state in
            if state.pending {
                state.pending = false
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.pending || state.expired == id {
                            state.pending = false
                            state.expired = nil
                            return true
                        }
                        state.waiter = (id, continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.expire(id)
            }
            group.cancelAll()
        }
    }

    /// Ends wait `id`: resumes its waiter, or marks it expired if it has not registered yet.
    private func expire(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter, waiter.id == id else {
                if id == state.nextID { state.expired = id }
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }
}
