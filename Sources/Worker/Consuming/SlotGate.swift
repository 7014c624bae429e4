import Shared
import Synchronization

/// Limits how many bots run at once, and hands a freed slot to the job a ``PriorityScheduler``
/// picks: the highest priority waiting, with a reserved share for the lower ones.
///
/// RabbitMQ refuses per-channel (`global`) prefetch on quorum queues (540 NOT_IMPLEMENTED, seen on
/// 3.10) and 4.3 drops it altogether, so each priority's consumer has its own prefetch of
/// `slots`; the broker therefore never hands this worker more than `slots` jobs of one
/// priority, and this gate keeps the total running at `slots`.
final class SlotGate: Sendable {
    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var free: Int
        var waiting: [Priority: [Waiter]] = [:]
        var scheduler: PriorityScheduler
        var nextID = 0
    }

    private let state: Mutex<State>

    init(slots: Int, reservedEvery: Int = 10) {
        state = Mutex(State(free: slots, scheduler: PriorityScheduler(reservedEvery: reservedEvery)))
    }

    /// Waits for a free slot. Throws `CancellationError` if the task is cancelled while waiting.
    func acquire(priority: Priority) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Admission { case granted, waiting, cancelled }
                // Decided under the lock, so that the continuation is resumed exactly once: here, or
                // by `release()` / the cancellation handler once it is queued.
                let admission = state.withLock { state -> Admission in
                    if Task.isCancelled { return .cancelled }
                    if state.free > 0 && state.waiting.values.allSatisfy(\.isEmpty) {
                        state.free -= 1
                        return .granted
                    }
                    state.waiting[priority, default: []].append(Waiter(id: id, continuation: continuation))
                    return .waiting
                }
                switch admission {
                case .granted: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                for priority in Priority.descending {
                    if let index = state.waiting[priority]?.firstIndex(where: { $0.id == id }) {
                        return state.waiting[priority]?.remove(at: index)
                    }
                }
                return nil
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Frees a slot: the first waiter of the priority the scheduler picks gets it.
    func release() {
        let next = state.withLock { state -> Waiter? in
            let waiting = Set(Priority.allCases.filter { state.waiting[$0]?.isEmpty == false })
            guard let priority = state.scheduler.next(waiting: waiting) else {
                state.free += 1
                return nil
            }
            return state.waiting[priority]?.removeFirst()
        }
        next?.continuation.resume()
    }
}
