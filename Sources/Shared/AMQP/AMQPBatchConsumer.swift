/// Deliveries from one `basic.consume`, taken in batches by one task.
///
/// ``next(upTo:)`` answers an empty batch once the consumer is cancelled, and throws when the
/// channel or the connection goes away or the broker cancels the consumer.
public struct AMQPBatchConsumer: Sendable {
    public let tag: String
    public let queue: String
    public let channel: AMQPChannel
    let batches: DeliveryBatches

    /// Waits for at least one delivery and takes up to `limit` of them, oldest first.
    public func next(upTo limit: Int) async throws -> [AMQPDelivery] {
        try await batches.next(upTo: limit)
    }

    /// Stops deliveries (`basic.cancel`); unacknowledged ones stay with this channel until acked.
    public func cancel() async throws {
        try await channel.connection.call { [channel, tag] core, completion in
            core.cancelConsumer(channel: channel.id, tag: tag, completion: completion)
        }
    }
}
