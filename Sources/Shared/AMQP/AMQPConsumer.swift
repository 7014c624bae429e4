/// Deliveries from one `basic.consume`, as an async sequence.
///
/// The sequence ends when the consumer is cancelled, and throws when the channel or the
/// connection goes away or the broker cancels the consumer.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery

    public let tag: String
    public let queue: String
    public let channel: AMQPChannel
    let deliveries: AsyncThrowingStream<AMQPDelivery, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator {
        deliveries.makeAsyncIterator()
    }

    /// Stops deliveries (`basic.cancel`); unacknowledged ones stay with this channel until acked.
    public func cancel() async throws {
        try await channel.connection.call { [channel, tag] core, completion in
            core.cancelConsumer(channel: channel.id, tag: tag, completion: completion)
        }
    }
}
