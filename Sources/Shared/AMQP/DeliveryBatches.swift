import Synchronization

/// A consumer's deliveries waiting for a task that takes them in batches.
///
/// The connection's thread appends each delivery and, when the task is waiting, resumes it: one
/// wake-up per batch, where an async stream read by a task that fills a batch for another costs
/// two per delivery.
final class DeliveryBatches: Sendable {
    /// How the consumer ended.
    private enum End {
        /// A cancel of our own: the batches end empty.
        case cancelled
        /// The channel or the connection closed, or the broker cancelled the consumer.
        case failed(any Error)
    }

    private struct State {
        var deliveries: [AMQPDelivery] = []
        var waiter: CheckedContinuation<Void, Never>?
        var end: End?
        /// The waiting task was cancelled before its wait began: the wait must not begin.
        var waitCancelled = false
    }

    private let state = Mutex(State())

    init() {}

    func append(_ delivery: AMQPDelivery) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.end == nil else { return nil }
            state.deliveries.append(delivery)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Ends the consumer: waiting deliveries are still taken, then ``next(upTo:)`` throws `error`,
    /// or answers an empty batch when the consumer was cancelled (`error` nil).
    func finish(throwing error: (any Error)? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.end == nil else { return nil }
            state.end = error.map(End.failed) ?? .cancelled
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Waits for at least one delivery and takes up to `limit` of them, oldest first.
    ///
    /// Answers an empty batch once the consumer was cancelled and every delivery taken; throws
    /// how it ended otherwise (the channel or connection closed, the broker cancelled it), or
    /// `CancellationError` when the calling task is cancelled while it waits. One task at a time.
    func next(upTo limit: Int) async throws -> [AMQPDelivery] {
        precondition(limit > 0, "a batch holds at least one delivery")
        while true {
            let taken = state.withLock { state -> Result<[AMQPDelivery], any Error>? in
                if !state.deliveries.isEmpty {
                    let batch = Array(state.deliveries.prefix(limit))
                    state.deliveries.removeFirst(batch.count)
                    return .success(batch)
                }
                switch state.end {
                case nil: return nil
                case .cancelled: return .success([])
                case .failed(let error): return .failure(error)
                }
            }
            if let taken { return try taken.get() }
            try Task.checkCancellation()
            await waitForNews()
        }
    }

    /// Returns after a delivery, the end, or the calling task's cancellation.
    private func waitForNews() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.deliveries.isEmpty || state.end != nil || state.waitCancelled {
                        state.waitCancelled = false
                        return true
                    }
                    precondition(state.waiter == nil, "one task at a time takes a consumer's deliveries")
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiter else {
                    // Cancelled before the wait registered: it must not register and sleep.
                    state.waitCancelled = true
                    return nil
                }
                state.waiter = nil
                return waiter
            }
            waiter?.resume()
        }
    }
}
