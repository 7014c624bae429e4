import Synchronization

/// A consumer's deliveries handed to a function on the connection's own thread, a burst at a time.
///
/// The thread gathers what it reads from the socket and hands it over before it waits again:
/// nothing is woken to take the deliveries, where a task that waited for them woke once per burst
/// and the work it queued woke another.
final class DeliveryHandOver: Sendable {
    /// How the consumer ended.
    private enum End {
        /// A cancel of our own.
        case cancelled
        /// The channel or the connection closed, or the broker cancelled the consumer.
        case failed(any Error)
    }

    private struct State {
        var gathered: [AMQPDelivery] = []
        var end: End?
    }

    /// Deliveries handed over at once at most: a long burst is handed over in parts.
    static let largestBurst = 256

    private let receive: @Sendable ([AMQPDelivery]) -> Void
    private let state = Mutex(State())
    private let ending = WakeSignal()

    init(receive: @escaping @Sendable ([AMQPDelivery]) -> Void) {
        self.receive = receive
    }

    /// Keeps `delivery` for the next hand-over; answers how many are kept now. Connection's thread only.
    func gather(_ delivery: AMQPDelivery) -> Int {
        state.withLock { state in
            state.gathered.append(delivery)
            return state.gathered.count
        }
    }

    /// Hands what was gathered to the receiving function, if anything. Connection's thread only.
    func handOver() {
        let burst = state.withLock { state in
            defer { state.gathered.removeAll(keepingCapacity: true) }
            return state.gathered
        }
        if !burst.isEmpty { receive(burst) }
    }

    /// Ends the consumer, after handing over what was gathered: with `error`, or as a cancel of our
    /// own when it is nil.
    func finish(throwing error: (any Error)? = nil) {
        handOver()
        state.withLock { state in
            if state.end == nil { state.end = error.map(End.failed) ?? .cancelled }
        }
        ending.notify()
    }

    /// Returns once the consumer was cancelled (``AMQPCallbackConsumer/cancel()``) and everything
    /// it received was handed over; throws how it ended otherwise, or `CancellationError` when the
    /// waiting task is cancelled.
    func ended() async throws {
        while true {
            let end = state.withLock { $0.end }
            switch end {
            case .cancelled: return
            case .failed(let error): throw error
            case nil: break
            }
            try Task.checkCancellation()
            await ending.wait()
        }
    }
}
