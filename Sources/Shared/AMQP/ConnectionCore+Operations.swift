import CRabbitMQ
import Foundation

/// The AMQP methods ``AMQPChannel`` offers, run on the connection's thread. Synchronous methods
/// complete through ``PendingCall``s: their completion runs when the broker has answered.
extension ConnectionCore {
    func declareExchange(channel: ChannelID, name: String, type: String, durable: Bool, arguments: AMQPTable,
                         completion: @escaping (Result<Void, AMQPError>) -> Void) {
        call(on: channel, "exchange.declare \(name)", method: AMQPMethod.exchangeDeclare,
             replies: [AMQPMethod.exchangeDeclareOK],
             encode: { arena in
                 amqp_exchange_declare_t(ticket: 0, exchange: arena.bytes(name), type: arena.bytes(type), passive: 0,
                                         durable: durable ? 1 : 0, auto_delete: 0, internal: 0, nowait: 0,
                                         arguments: arena.table(arguments))
             },
             reply: { _, _ in }, completion: completion)
    }

    func declareQueue(channel: ChannelID, name: String, passive: Bool, durable: Bool, exclusive: Bool,
                      autoDelete: Bool, arguments: AMQPTable,
                      completion: @escaping (Result<AMQPQueueStatus, AMQPError>) -> Void) {
        call(on: channel, "queue.declare \(name)", method: AMQPMethod.queueDeclare,
             replies: [AMQPMethod.queueDeclareOK],
             encode: { arena in
                 amqp_queue_declare_t(ticket: 0, queue: arena.bytes(name), passive: passive ? 1 : 0,
                                      durable: durable ? 1 : 0, exclusive: exclusive ? 1 : 0,
                                      auto_delete: autoDelete ? 1 : 0, nowait: 0, arguments: arena.table(arguments))
             },
             reply: { _, method in
                 let ok = method.decoded.assumingMemoryBound(to: amqp_queue_declare_ok_t.self).pointee
                 return AMQPQueueStatus(name: ok.queue.string, messageCount: Int(ok.message_count),
                                        consumerCount: Int(ok.consumer_count))
             },
             completion: completion)
    }

    func bindQueue(channel: ChannelID, queue: String, exchange: String, routingKey: String, arguments: AMQPTable,
                   completion: @escaping (Result<Void, AMQPError>) -> Void) {
        call(on: channel, "queue.bind \(queue) to \(exchange) with '\(routingKey)'", method: AMQPMethod.queueBind,
             replies: [AMQPMethod.queueBindOK],
             encode: { arena in
                 amqp_queue_bind_t(ticket: 0, queue: arena.bytes(queue), exchange: arena.bytes(exchange),
                                   routing_key: arena.bytes(routingKey), nowait: 0, arguments: arena.table(arguments))
             },
             reply: { _, _ in }, completion: completion)
    }

    func deleteQueue(channel: ChannelID, name: String, completion: @escaping (Result<Void, AMQPError>) -> Void) {
        call(on: channel, "queue.delete \(name)", method: AMQPMethod.queueDelete, replies: [AMQPMethod.queueDeleteOK],
             encode: { arena in
                 amqp_queue_delete_t(ticket: 0, queue: arena.bytes(name), if_unused: 0, if_empty: 0, nowait: 0)
             },
             reply: { _, _ in }, completion: completion)
    }

    func setPrefetch(channel: ChannelID, count: UInt16, global: Bool,
                     completion: @escaping (Result<Void, AMQPError>) -> Void) {
        call(on: channel, "basic.qos \(count)", method: AMQPMethod.basicQos, replies: [AMQPMethod.basicQosOK],
             encode: { _ in amqp_basic_qos_t(prefetch_size: 0, prefetch_count: count, global: global ? 1 : 0) },
             reply: { _, _ in }, completion: completion)
    }

    func enableConfirms(channel: ChannelID, completion: @escaping (Result<Void, AMQPError>) -> Void) {
        call(on: channel, "confirm.select", method: AMQPMethod.confirmSelect, replies: [AMQPMethod.confirmSelectOK],
             encode: { _ in amqp_confirm_select_t(nowait: 0) },
             reply: { core, _ in core.updateChannel(channel.number) { $0.nextPublishTag = 1 } },
             completion: completion)
    }

    /// Starts a consumer whose deliveries go to `sink`; completes with the broker's consumer tag.
    func consume(channel: ChannelID, queue: String, exclusive: Bool, arguments: AMQPTable, sink: DeliverySink,
                 completion: @escaping (Result<String, AMQPError>) -> Void) {
        call(on: channel, "basic.consume \(queue)", method: AMQPMethod.basicConsume,
             replies: [AMQPMethod.basicConsumeOK],
             encode: { arena in
                 amqp_basic_consume_t(ticket: 0, queue: arena.bytes(queue), consumer_tag: amqp_empty_bytes,
                                      no_local: 0, no_ack: 0, exclusive: exclusive ? 1 : 0, nowait: 0,
                                      arguments: arena.table(arguments))
             },
             reply: { core, method in
                 // Registered before the next frame is read: the broker sends deliveries only after consume-ok.
                 let ok = method.decoded.assumingMemoryBound(to: amqp_basic_consume_ok_t.self).pointee
                 let tag = ok.consumer_tag.string
                 core.consumers[tag] = sink
                 core.updateChannel(channel.number) { $0.consumerTags.insert(tag) }
                 return tag
             },
             completion: completion)
    }

    /// Ends the consumer's deliveries at once and cancels it at the broker.
    func cancelConsumer(channel: ChannelID, tag: String, completion: @escaping (Result<Void, AMQPError>) -> Void) {
        guard let sink = consumers.removeValue(forKey: tag) else { return completion(.success(())) }
        updateChannel(channel.number) { $0.consumerTags.remove(tag) }
        sink.finish()
        call(on: channel, "basic.cancel \(tag)", method: AMQPMethod.basicCancel, replies: [AMQPMethod.basicCancelOK],
             encode: { arena in amqp_basic_cancel_t(consumer_tag: arena.bytes(tag), nowait: 0) },
             reply: { _, _ in }, completion: completion)
    }

    func acknowledge(channel: ChannelID, deliveryTag: UInt64, multiple: Bool = false) throws(AMQPError) {
        try ensureChannel(channel, "basic.ack")
        let status = amqp_basic_ack(state, channel.number, deliveryTag, multiple ? 1 : 0)
        try checkStatus(status, operation: "basic.ack")
    }

    func reject(channel: ChannelID, deliveryTag: UInt64, requeue: Bool) throws(AMQPError) {
        try ensureChannel(channel, "basic.reject")
        let status = amqp_basic_reject(state, channel.number, deliveryTag, requeue ? 1 : 0)
        try checkStatus(status, operation: "basic.reject")
    }

    /// Fetches one message with `basic.get`; completes with nil when the queue is empty.
    func get(channel: ChannelID, queue: String, connection: AMQPConnection,
             completion: @escaping (Result<AMQPDelivery?, AMQPError>) -> Void) {
        let operation = "basic.get \(queue)"
        call(on: channel, operation, method: AMQPMethod.basicGet,
             replies: [AMQPMethod.basicGetOK, AMQPMethod.basicGetEmpty],
             encode: { arena in amqp_basic_get_t(ticket: 0, queue: arena.bytes(queue), no_ack: 0) },
             reply: { core, method throws(AMQPError) -> AMQPDelivery? in
                 guard method.id == AMQPMethod.basicGetOK else { return nil }
                 let getOK = method.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
                 // The content frames follow the get-ok at once.
                 var message = amqp_message_t()
                 try core.check(amqp_read_message(core.state, channel.number, &message, 0), operation: operation,
                                channel: channel.number)
                 defer { amqp_destroy_message(&message) }
                 return AMQPDelivery(
                     body: message.body.data,
                     exchange: getOK.exchange.string,
                     routingKey: getOK.routing_key.string,
                     deliveryTag: getOK.delivery_tag,
                     redelivered: getOK.redelivered != 0,
                     messageID: message.properties.messageID,
                     headers: message.properties.headerTable,
                     channel: channel,
                     connection: connection
                 )
             },
             completion: completion)
    }

    /// Publishes each message; `completion` runs once per message when the broker confirmed,
    /// refused or returned it (or the channel went away).
    func publish(channel: ChannelID, messages: [AMQPMessage],
                 completion: @escaping (Int, Result<Void, AMQPError>) -> Void) {
        if messages.count > 1 { cork.cork() }
        for (index, message) in messages.enumerated() {
            do throws(AMQPError) {
                try ensureChannel(channel, "basic.publish")
                guard let tag = channels[channel.number]?.nextPublishTag else {
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
                let status = amqp_basic_publish(state, channel.number, arena.bytes(message.exchange),
                                                arena.bytes(message.routingKey), message.mandatory ? 1 : 0, 0,
                                                &properties, arena.bytes(message.body))
                try checkStatus(status, operation: "basic.publish to \(message.exchange)")
                updateChannel(channel.number) { channelState in
                    channelState.nextPublishTag = tag + 1
                    channelState.pendingPublishes.add(PendingPublish(
                        messageID: messageID, returnReason: nil, completion: { completion(index, $0) }), tag: tag)
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
