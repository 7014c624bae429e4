import CRabbitMQ
import Foundation

/// The AMQP methods ``AMQPChannel`` offers, run on the connection's thread.
extension ConnectionCore {
    func declareExchange(channel: amqp_channel_t, name: String, type: String, durable: Bool,
                         arguments: AMQPTable) throws(AMQPError) {
        let operation = "exchange.declare \(name)"
        try ensureChannel(channel, operation)
        let arena = CArena()
        defer { withExtendedLifetime(arena) {} }
        _ = amqp_exchange_declare(state, channel, arena.bytes(name), arena.bytes(type), 0, durable ? 1 : 0, 0, 0,
                                  arena.table(arguments))
        try check(amqp_get_rpc_reply(state), operation: operation, channel: channel)
    }

    func declareQueue(channel: amqp_channel_t, name: String, passive: Bool, durable: Bool, exclusive: Bool,
                      autoDelete: Bool, arguments: AMQPTable) throws(AMQPError) -> AMQPQueueStatus {
        let operation = "queue.declare \(name)"
        try ensureChannel(channel, operation)
        let arena = CArena()
        defer { withExtendedLifetime(arena) {} }
        let ok = amqp_queue_declare(state, channel, arena.bytes(name), passive ? 1 : 0, durable ? 1 : 0,
                                    exclusive ? 1 : 0, autoDelete ? 1 : 0, arena.table(arguments))
        try check(amqp_get_rpc_reply(state), operation: operation, channel: channel)
        guard let ok else { throw AMQPError(.libraryError, operation: operation, message: "no declare-ok") }
        return AMQPQueueStatus(name: ok.pointee.queue.string, messageCount: Int(ok.pointee.message_count),
                               consumerCount: Int(ok.pointee.consumer_count))
    }

    func bindQueue(channel: amqp_channel_t, queue: String, exchange: String, routingKey: String,
                   arguments: AMQPTable) throws(AMQPError) {
        let operation = "queue.bind \(queue) to \(exchange) with '\(routingKey)'"
        try ensureChannel(channel, operation)
        let arena = CArena()
        defer { withExtendedLifetime(arena) {} }
        _ = amqp_queue_bind(state, channel, arena.bytes(queue), arena.bytes(exchange), arena.bytes(routingKey),
                            arena.table(arguments))
        try check(amqp_get_rpc_reply(state), operation: operation, channel: channel)
    }

    func setPrefetch(channel: amqp_channel_t, count: UInt16, global: Bool) throws(AMQPError) {
        let operation = "basic.qos \(count)"
        try ensureChannel(channel, operation)
        _ = amqp_basic_qos(state, channel, 0, count, global ? 1 : 0)
        try check(amqp_get_rpc_reply(state), operation: operation, channel: channel)
    }

    func enableConfirms(channel: amqp_channel_t) throws(AMQPError) {
        try ensureChannel(channel, "confirm.select")
        _ = amqp_confirm_select(state, channel)
        try check(amqp_get_rpc_reply(state), operation: "confirm.select", channel: channel)
        updateChannel(channel) { $0.nextPublishTag = 1 }
    }

    /// Starts a consumer whose deliveries go to `continuation`; returns the broker's consumer tag.
    func consume(channel: amqp_channel_t, queue: String, exclusive: Bool, arguments: AMQPTable,
                 continuation: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation) throws(AMQPError) -> String {
        let operation = "basic.consume \(queue)"
        try ensureChannel(channel, operation)
        let arena = CArena()
        defer { withExtendedLifetime(arena) {} }
        let ok = amqp_basic_consume(state, channel, arena.bytes(queue), amqp_empty_bytes, 0, 0, exclusive ? 1 : 0,
                                    arena.table(arguments))
        try check(amqp_get_rpc_reply(state), operation: operation, channel: channel)
        guard let ok else { throw AMQPError(.libraryError, operation: operation, message: "no consume-ok") }
        let tag = ok.pointee.consumer_tag.string
        consumers[tag] = continuation
        updateChannel(channel) { $0.consumerTags.insert(tag) }
        return tag
    }

    func cancelConsumer(channel: amqp_channel_t, tag: String) throws(AMQPError) {
        guard let continuation = consumers.removeValue(forKey: tag) else { return }
        updateChannel(channel) { $0.consumerTags.remove(tag) }
        continuation.finish()
        try ensureChannel(channel, "basic.cancel")
        let arena = CArena()
        defer { withExtendedLifetime(arena) {} }
        _ = amqp_basic_cancel(state, channel, arena.bytes(tag))
        try check(amqp_get_rpc_reply(state), operation: "basic.cancel \(tag)", channel: channel)
    }

    func acknowledge(channel: amqp_channel_t, deliveryTag: UInt64, multiple: Bool = false) throws(AMQPError) {
        try ensureChannel(channel, "basic.ack")
        let status = amqp_basic_ack(state, channel, deliveryTag, multiple ? 1 : 0)
        try checkStatus(status, operation: "basic.ack")
    }

    func reject(channel: amqp_channel_t, deliveryTag: UInt64, requeue: Bool) throws(AMQPError) {
        try ensureChannel(channel, "basic.reject")
        let status = amqp_basic_reject(state, channel, deliveryTag, requeue ? 1 : 0)
        try checkStatus(status, operation: "basic.reject")
    }

    /// Fetches one message with `basic.get`, or nil when the queue is empty.
    func get(channel: amqp_channel_t, queue: String, connection: AMQPConnection) throws(AMQPError) -> AMQPDelivery? {
        let operation = "basic.get \(queue)"
        try ensureChannel(channel, operation)
        let arena = CArena()
        defer { withExtendedLifetime(arena) {} }
        let reply = amqp_basic_get(state, channel, arena.bytes(queue), 0)
        try check(reply, operation: operation, channel: channel)
        guard reply.reply.id == 0x003C_0047 /* basic.get-ok */ else { return nil }
        let getOK = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        var message = amqp_message_t()
        let read = amqp_read_message(state, channel, &message, 0)
        try check(read, operation: operation, channel: channel)
        defer { amqp_destroy_message(&message) }
        let flags = message.properties._flags
        return AMQPDelivery(
            body: message.body.data,
            exchange: getOK.exchange.string,
            routingKey: getOK.routing_key.string,
            deliveryTag: getOK.delivery_tag,
            redelivered: getOK.redelivered != 0,
            messageID: flags & amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) != 0 ? message.properties.message_id.string : nil,
            headers: flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0 ? message.properties.headers.swiftTable : [:],
            channel: channel,
            connection: connection
        )
    }

    /// Publishes each message; `completion` runs once per message when the broker confirmed,
    /// refused or returned it (or the channel went away).
    func publish(channel: amqp_channel_t, messages: [AMQPMessage],
                 completion: @escaping (Int, Result<Void, AMQPError>) -> Void) {
        for (index, message) in messages.enumerated() {
            do throws(AMQPError) {
                try ensureChannel(channel, "basic.publish")
                guard let tag = channels[channel]?.nextPublishTag else {
                    throw AMQPError(.libraryError, operation: "basic.publish", message: "channel is not in confirm mode")
                }
                let arena = CArena()
                defer { withExtendedLifetime(arena) {} }
                var properties = amqp_basic_properties_t()
                var flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
                properties.delivery_mode = message.persistent ? 2 : 1
                let messageID = message.messageID ?? (message.mandatory ? UUID.random().uuidString : nil)
                if let messageID {
                    flags |= amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG)
                    properties.message_id = arena.bytes(messageID)
                }
                if let contentType = message.contentType {
                    flags |= amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG)
                    properties.content_type = arena.bytes(contentType)
                }
                if !message.headers.isEmpty {
                    flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
                    properties.headers = arena.table(message.headers)
                }
                properties._flags = flags
                let status = amqp_basic_publish(state, channel, arena.bytes(message.exchange),
                                                arena.bytes(message.routingKey), message.mandatory ? 1 : 0, 0,
                                                &properties, arena.bytes(message.body))
                try checkStatus(status, operation: "basic.publish to \(message.exchange)")
                updateChannel(channel) { channelState in
                    channelState.nextPublishTag = tag + 1
                    channelState.pendingPublishes[tag] = PendingPublish(
                        messageID: messageID, returnReason: nil, completion: { completion(index, $0) })
                }
            } catch {
                completion(index, .failure(error))
            }
        }
    }

    private func checkStatus(_ status: Int32, operation: String) throws(AMQPError) {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        let message = String(cString: amqp_error_string2(status))
        fail(AMQPError(.connectionClosed, operation: operation, message: message))
        throw AMQPError(.libraryError, operation: operation, message: message)
    }
}

/// What `queue.declare` reports about a queue.
public struct AMQPQueueStatus: Sendable, Equatable {
    public var name: String
    public var messageCount: Int
    public var consumerCount: Int
}
