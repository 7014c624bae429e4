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

    /// Rejects the message: back to the queue with `requeue`, else to the queue's dead-letter exchange.
    public func reject(requeue: Bool) async throws {
        try await connection.perform { [channel, deliveryTag] core in
            try core.reject(channel: channel, deliveryTag: deliveryTag, requeue: requeue)
        }
    }
}
