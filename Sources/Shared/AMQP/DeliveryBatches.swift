import Synchronization

/// A consumer's deliveries waiting for a task that takes them in batches.
///
/// The connection's thread appends each delivery and notifies; only a task that waits is woken, so
/// the task wakes once per batch, where an async stream read by a task that fills a batch for
/// another woke two tasks per delivery.
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
        var end: End?
    }

    private let state = Mutex(State())
    private let news = WakeSignal()

    init() {}

    func append(_ delivery: AMQPDelivery) {
        state.withLock { $0.deliveries.append(delivery) }
        news.notify()
    }

    /// Ends the consumer: waiting deliveries are still taken, then ``next(upTo:)`` throws `error`,
    /// or answers an empty batch when the consumer was cancelled (`error` nil).
    func finish(throwing error: (any Error)? = nil) {
        state.withLock { state in
            if state.end == nil { state.end = error.map(End.failed) ?? .cancelled }
        }
        news.notify()
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
            await news.wait()
        }
    }
}
