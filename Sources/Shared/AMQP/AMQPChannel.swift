import Foundation

/// A channel on an ``AMQPConnection``. A cheap handle: copies refer to the same channel.
///
/// When the broker closes the channel (e.g. a `406 PRECONDITION_FAILED` on a declare), the
/// close is answered at once and every later call throws `channelClosed`: open a new channel.
public struct AMQPChannel: Sendable {
    public let number: UInt16
    public let connection: AMQPConnection

    public enum ExchangeType: String, Sendable {
        case direct, fanout, topic, headers
    }

    public func declareExchange(_ name: String, type: ExchangeType, durable: Bool = true,
                                arguments: AMQPTable = [:]) async throws {
        try await connection.perform { [number] core in
            try core.declareExchange(channel: number, name: name, type: type.rawValue, durable: durable,
                                     arguments: arguments)
        }
    }

    @discardableResult
    public func declareQueue(_ name: String, durable: Bool = true, exclusive: Bool = false,
                             autoDelete: Bool = false, arguments: AMQPTable = [:]) async throws -> AMQPQueueStatus {
        try await connection.perform { [number] core in
            try core.declareQueue(channel: number, name: name, passive: false, durable: durable, exclusive: exclusive,
                                  autoDelete: autoDelete, arguments: arguments)
        }
    }

    /// The queue's message and consumer counts; throws `channelClosed` with reply 404 when it does not exist.
    public func inspectQueue(_ name: String) async throws -> AMQPQueueStatus {
        try await connection.perform { [number] core in
            try core.declareQueue(channel: number, name: name, passive: true, durable: false, exclusive: false,
                                  autoDelete: false, arguments: [:])
        }
    }

    public func bindQueue(_ queue: String, exchange: String, routingKey: String,
                          arguments: AMQPTable = [:]) async throws {
        try await connection.perform { [number] core in
            try core.bindQueue(channel: number, queue: queue, exchange: exchange, routingKey: routingKey,
                               arguments: arguments)
        }
    }

    /// `basic.qos`: at most `count` unacknowledged deliveries per consumer started after this
    /// call (or, with `global`, for the whole channel).
    public func setPrefetch(count: UInt16, global: Bool = false) async throws {
        try await connection.perform { [number] core in
            try core.setPrefetch(channel: number, count: count, global: global)
        }
    }

    /// Puts the channel in confirm mode; required before ``publish(_:)``.
    public func enableConfirms() async throws {
        try await connection.perform { [number] core in try core.enableConfirms(channel: number) }
    }

    /// Publishes one message and returns once the broker has confirmed it.
    ///
    /// - Throws: ``AMQPError`` `publishNacked` or `publishReturned` (mandatory and unroutable),
    ///   or a connection or channel error.
    public func publish(_ message: AMQPMessage) async throws {
        try await publish([message])[0].get()
    }

    /// Publishes messages as one confirm window and returns each one's fate, in order.
    public func publish(_ messages: [AMQPMessage]) async throws -> [Result<Void, AMQPError>] {
        guard !messages.isEmpty else { return [] }
        return try await connection.performDeferred { [number] core, continuation in
            var results = [Result<Void, AMQPError>?](repeating: nil, count: messages.count)
            var remaining = messages.count
            core.publish(channel: number, messages: messages) { index, result in
                guard results[index] == nil else { return }
                results[index] = result
                remaining -= 1
                if remaining == 0 { continuation.resume(returning: results.map { $0! }) }
            }
        }
    }

    /// Starts consuming `queue` with manual acknowledgement.
    ///
    /// - Parameters:
    ///   - prefetch: this consumer's prefetch (`basic.qos` sent with the `basic.consume`, in one
    ///     step, so that no other consumer of the channel can be set up in between).
    ///   - exclusive: refuse other consumers of this queue while this one lives.
    public func consume(queue: String, prefetch: UInt16? = nil, exclusive: Bool = false,
                        arguments: AMQPTable = [:]) async throws -> AMQPConsumer {
        let (stream, continuation) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        let tag = try await connection.perform { [number] core in
            if let prefetch { try core.setPrefetch(channel: number, count: prefetch, global: false) }
            return try core.consume(channel: number, queue: queue, exclusive: exclusive, arguments: arguments,
                                    continuation: continuation)
        }
        return AMQPConsumer(tag: tag, queue: queue, channel: self, deliveries: stream)
    }

    /// Fetches one message (`basic.get`, unacknowledged), or nil when the queue is empty.
    public func get(queue: String) async throws -> AMQPDelivery? {
        try await connection.perform { [number, connection] core in
            try core.get(channel: number, queue: queue, connection: connection)
        }
    }

    public func close() async {
        _ = try? await connection.perform { [number] core in core.closeChannel(number) }
    }
}
