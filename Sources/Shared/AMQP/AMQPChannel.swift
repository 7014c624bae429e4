import Foundation

/// Messages sent by ``AMQPChannel/send(_:)``, waiting for the broker's confirms.
public struct PublishedBatch: Sendable {
    let fates: AsyncThrowingStream<[Result<Void, AMQPError>], any Error>

    /// Waits for every message's fate, in the order sent.
    /// - Throws: the connection's or channel's error when it ended first.
    public func results() async throws -> [Result<Void, AMQPError>] {
        for try await results in fates { return results }
        throw AMQPError(.connectionClosed, operation: "publish", message: "no confirms before the connection ended")
    }
}

/// A channel on an ``AMQPConnection``. A cheap handle: copies refer to the same channel.
///
/// When the broker closes the channel (e.g. a `406 PRECONDITION_FAILED` on a declare), the
/// close is answered at once and every later call throws `channelClosed`: open a new channel.
public struct AMQPChannel: Sendable {
    let id: ChannelID
    public let connection: AMQPConnection

    /// The channel's number on its connection (reused by later channels once this one closed).
    public var number: UInt16 { id.number }

    public enum ExchangeType: String, Sendable {
        case direct, fanout, topic, headers
    }

    public func declareExchange(_ name: String, type: ExchangeType, durable: Bool = true,
                                arguments: AMQPTable = [:]) async throws {
        try await connection.call { [id] core, completion in
            core.declareExchange(channel: id, name: name, type: type.rawValue, durable: durable, arguments: arguments,
                                 completion: completion)
        }
    }

    @discardableResult
    public func declareQueue(_ name: String, durable: Bool = true, exclusive: Bool = false,
                             autoDelete: Bool = false, arguments: AMQPTable = [:]) async throws -> AMQPQueueStatus {
        try await connection.call { [id] core, completion in
            core.declareQueue(channel: id, name: name, passive: false, durable: durable, exclusive: exclusive,
                              autoDelete: autoDelete, arguments: arguments, completion: completion)
        }
    }

    /// The queue's message and consumer counts; throws `channelClosed` with reply 404 when it does not exist.
    public func inspectQueue(_ name: String) async throws -> AMQPQueueStatus {
        try await connection.call { [id] core, completion in
            core.declareQueue(channel: id, name: name, passive: true, durable: false, exclusive: false,
                              autoDelete: false, arguments: [:], completion: completion)
        }
    }

    /// Deletes the queue and the messages in it.
    public func deleteQueue(_ name: String) async throws {
        try await connection.call { [id] core, completion in
            core.deleteQueue(channel: id, name: name, completion: completion)
        }
    }

    public func bindQueue(_ queue: String, exchange: String, routingKey: String,
                          arguments: AMQPTable = [:]) async throws {
        try await connection.call { [id] core, completion in
            core.bindQueue(channel: id, queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments,
                           completion: completion)
        }
    }

    /// `basic.qos`: at most `count` unacknowledged deliveries per consumer started after this
    /// call (or, with `global`, for the whole channel).
    public func setPrefetch(count: UInt16, global: Bool = false) async throws {
        try await connection.call { [id] core, completion in
            core.setPrefetch(channel: id, count: count, global: global, completion: completion)
        }
    }

    /// Puts the channel in confirm mode; required before ``publish(_:)``.
    public func enableConfirms() async throws {
        try await connection.call { [id] core, completion in core.enableConfirms(channel: id, completion: completion) }
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
        try await send(messages).results()
    }

    /// Publishes messages as one confirm window without waiting for the broker: they go out
    /// after everything this connection was given before, so that batches sent one after
    /// another keep their order while several of them wait for their confirms at once.
    public func send(_ messages: [AMQPMessage]) -> PublishedBatch {
        let (fates, continuation) = AsyncThrowingStream<[Result<Void, AMQPError>], any Error>.makeStream()
        send(messages) { outcome in
            switch outcome {
            case .success(let results):
                continuation.yield(results)
                continuation.finish()
            case .failure(let error):
                continuation.finish(throwing: error)
            }
        }
        return PublishedBatch(fates: fates)
    }

    /// ``send(_:)`` whose fates go to `completion`, on the connection's thread (it must not block):
    /// every message's, in the order sent, or the error that ended the connection first. Nothing
    /// waits on a task.
    public func send(_ messages: [AMQPMessage],
                     completion: @escaping @Sendable (Result<[Result<Void, AMQPError>], AMQPError>) -> Void) {
        guard !messages.isEmpty else { return completion(.success([])) }
        connection.submit(run: { [id] core in
            var results = [Result<Void, AMQPError>?](repeating: nil, count: messages.count)
            var remaining = messages.count
            core.publish(channel: id, messages: messages) { index, result in
                guard results[index] == nil else { return }
                results[index] = result
                remaining -= 1
                if remaining == 0 { completion(.success(results.map { $0! })) }
            }
        }, fail: { completion(.failure($0)) })
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
        let tag = try await startConsumer(queue: queue, prefetch: prefetch, exclusive: exclusive,
                                          arguments: arguments, sink: .stream(continuation))
        return AMQPConsumer(tag: tag, queue: queue, channel: self, deliveries: stream)
    }

    /// Starts consuming `queue` with manual acknowledgement, handing the deliveries to `receive`
    /// on the connection's own thread: every delivery read in one pass over the socket together
    /// (up to 256), in the order they came, before the thread waits again. No task is woken for
    /// them. `receive` must not block nor wait for this connection (its acks, publishes and
    /// heartbeats wait while it runs); ``AMQPDelivery/ackWithoutWaiting(multiple:)`` is the ack it may
    /// send. The other parameters are those of ``consume(queue:prefetch:exclusive:arguments:)``.
    public func consume(queue: String, prefetch: UInt16? = nil, exclusive: Bool = false, arguments: AMQPTable = [:],
                        receive: @escaping @Sendable ([AMQPDelivery]) -> Void) async throws -> AMQPCallbackConsumer {
        let handOver = DeliveryHandOver(receive: receive)
        let tag = try await startConsumer(queue: queue, prefetch: prefetch, exclusive: exclusive,
                                          arguments: arguments, sink: .handOver(handOver))
        return AMQPCallbackConsumer(tag: tag, queue: queue, channel: self, handOver: handOver)
    }

    private func startConsumer(queue: String, prefetch: UInt16?, exclusive: Bool, arguments: AMQPTable,
                               sink: DeliverySink) async throws -> String {
        try await connection.call { [id] core, completion in
            // Both in the channel's line at once; a qos the broker refuses closes the channel, failing the consume.
            if let prefetch { core.setPrefetch(channel: id, count: prefetch, global: false, completion: { _ in }) }
            core.consume(channel: id, queue: queue, exclusive: exclusive, arguments: arguments, sink: sink,
                         completion: completion)
        }
    }

    /// Fetches one message (`basic.get`, unacknowledged), or nil when the queue is empty.
    public func get(queue: String) async throws -> AMQPDelivery? {
        try await connection.call { [id, connection] core, completion in
            core.get(channel: id, queue: queue, connection: connection, completion: completion)
        }
    }

    /// Closes the channel; returns once the broker confirmed (or the connection ended).
    public func close() async {
        _ = try? await connection.call { [id] core, completion in
            core.closeChannel(id) { completion(.success(())) }
        }
    }
}
