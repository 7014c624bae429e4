import Shared
import Synchronization

/// The consumers of one connection, so that shutdown can cancel them all, including those of
/// an account whose lease is claimed while shutdown has begun.
final class ConsumerRegistry: Sendable {
    private let state = Mutex<(consumers: [AMQPConsumer], closed: Bool)>(([], false))

    /// Adds a consumer; false when shutdown has begun (the caller cancels it).
    @discardableResult
    func add(_ consumer: AMQPConsumer) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.consumers.append(consumer)
            return true
        }
    }

    /// Closes the registry and returns every consumer added.
    func close() -> [AMQPConsumer] {
        state.withLock { state in
            state.closed = true
            return state.consumers
        }
    }
}
