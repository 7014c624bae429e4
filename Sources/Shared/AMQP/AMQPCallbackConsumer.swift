/// A consumer whose deliveries a function takes on the connection's own thread
/// (``AMQPChannel/consume(queue:prefetch:exclusive:arguments:receive:)``).
///
/// ``ended()`` returns once the consumer is cancelled, and throws when the channel or the
/// connection goes away or the broker cancels the consumer.
public struct AMQPCallbackConsumer: Sendable {
    public let tag: String
    public let queue: String
    public let channel: AMQPChannel
    let handOver: DeliveryHandOver

    /// Waits until the consumer ends, every delivery handed over before that; throws how it ended
    /// unless it was cancelled, or `CancellationError` when the waiting task is cancelled.
    public func ended() async throws {
        try await handOver.ended()
    }

    /// Stops deliveries (`basic.cancel`); unacknowledged ones stay with this channel until acked.
    public func cancel() async throws {
        try await channel.connection.call { [channel, tag] core, completion in
            core.cancelConsumer(channel: channel.id, tag: tag, completion: completion)
        }
    }
}
