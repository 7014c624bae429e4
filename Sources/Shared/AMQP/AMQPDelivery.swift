import Foundation

/// A message handed to a consumer. Acknowledge it exactly once.
public struct AMQPDelivery: Sendable {
    public let body: Data
    public let exchange: String
    public let routingKey: String
    public let deliveryTag: UInt64
    /// The broker delivered this message before (to a consumer that did not acknowledge it).
    public let redelivered: Bool
    public let messageID: String?
    public let headers: AMQPTable
    let channel: ChannelID
    let connection: AMQPConnection

    /// How often a quorum queue has delivered this message before (`x-delivery-count`).
    public var deliveryCount: Int {
        headers["x-delivery-count"]?.intValue.map(Int.init) ?? (redelivered ? 1 : 0)
    }

    /// Acknowledges the message; with `multiple`, every earlier delivery of its channel not
    /// acknowledged or rejected yet too (one `basic.ack` for a batch).
    public func ack(multiple: Bool = false) async throws {
        try await connection.perform { [channel, deliveryTag] core in
            try core.acknowledge(channel: channel, deliveryTag: deliveryTag, multiple: multiple)
        }
    }

    /// Hands the acknowledgement to the connection's thread and returns at once (``ack(multiple:)``
    /// waits until it was sent). Should the connection end first, the ack goes with it and the
    /// broker delivers the message again, as it does every delivery not acknowledged; a consumer
    /// learns of that end from its deliveries. `failed` hears of an ack that could not be sent (on
    /// the connection's thread, or at once when the connection has ended).
    public func ackWithoutWaiting(multiple: Bool = false,
                                  failed: @escaping @Sendable (AMQPError) -> Void = { _ in }) {
        connection.submit(run: { [channel, deliveryTag] core in
            do throws(AMQPError) {
                try core.acknowledge(channel: channel, deliveryTag: deliveryTag, multiple: multiple)
            } catch {
                failed(error)
            }
        }, fail: failed)
    }

    /// ``ackWithoutWaiting(multiple:)`` that does not wake the connection's thread for itself: the
    /// ack goes out when the thread wakes for anything else — the next delivery, another command,
    /// or the timeout of its wait on the socket, within a second — or at once when the acks held back
    /// since the thread last woke settle `limit` deliveries or more, counting `deliveries` for this
    /// one. Held back below the channel's prefetch, the acks never keep the broker from delivering.
    public func ackHeldBack(multiple: Bool = false, settling deliveries: Int, wakingAt limit: Int) {
        connection.submitHeldBack(weight: deliveries, wakingAt: limit, run: { [channel, deliveryTag] core in
            try? core.acknowledge(channel: channel, deliveryTag: deliveryTag, multiple: multiple)
        }, fail: { _ in })
    }

    /// Rejects the message: back to the queue with `requeue`, else to the queue's dead-letter exchange.
    public func reject(requeue: Bool) async throws {
        try await connection.perform { [channel, deliveryTag] core in
            try core.reject(channel: channel, deliveryTag: deliveryTag, requeue: requeue)
        }
    }

    /// Hands the rejection to the connection's thread and returns at once, as
    /// ``ackWithoutWaiting(multiple:)`` does the ack: it goes before whatever is handed over after it.
    public func rejectWithoutWaiting(requeue: Bool) {
        connection.submit(run: { [channel, deliveryTag] core in
            try? core.reject(channel: channel, deliveryTag: deliveryTag, requeue: requeue)
        }, fail: { _ in })
    }
}
