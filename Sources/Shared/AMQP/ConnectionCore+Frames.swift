import CRabbitMQ
import Foundation

extension ConnectionCore {
    /// Reads one frame if one is there (without waiting) and acts on it.
    func readFrame() {
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let reply = amqp_consume_message(state, &envelope, &immediately, 0)
        if reply.reply_type == AMQP_RESPONSE_NORMAL {
            deliver(envelope)
            amqp_destroy_envelope(&envelope)
            return
        }
        guard reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION else { return }
        switch reply.library_error {
        case AMQP_STATUS_TIMEOUT.rawValue:
            return
        case AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            // Another frame (a confirm, a return, a close) came first: amqp_consume_message put it back.
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
            if status == AMQP_STATUS_OK.rawValue {
                handle(frame)
            } else if status != AMQP_STATUS_TIMEOUT.rawValue {
                fail(AMQPError(.connectionClosed, operation: "read frame", message: String(cString: amqp_error_string2(status))))
            }
        default:
            fail(AMQPError(.connectionClosed, operation: "read frame",
                           message: String(cString: amqp_error_string2(reply.library_error))))
        }
    }

    private func deliver(_ envelope: amqp_envelope_t) {
        let tag = envelope.consumer_tag.string
        // A delivery on a channel being closed goes back to its queue with the close.
        guard let channelState = channels[envelope.channel], !channelState.isClosing else { return }
        guard let connection, let sink = consumers[tag] else {
            // A delivery that crossed our basic.cancel: give it back to the queue.
            _ = amqp_basic_reject(state, envelope.channel, envelope.delivery_tag, 1)
            return
        }
        let properties = envelope.message.properties
        let delivery = AMQPDelivery(
            body: envelope.message.body.data,
            exchange: envelope.exchange.string,
            routingKey: envelope.routing_key.string,
            deliveryTag: envelope.delivery_tag,
            redelivered: envelope.redelivered != 0,
            messageID: properties.messageID,
            headers: properties.headerTable,
            channel: ChannelID(number: envelope.channel, generation: channelState.generation),
            connection: connection
        )
        switch sink {
        case .stream(let continuation):
            continuation.yield(delivery)
        case .handOver(let handOver):
            let gathered = handOver.gather(delivery)
            if gathered == 1 { handOversDue.append(handOver) }
            if gathered >= DeliveryHandOver.largestBurst { handOver.handOver() }
        }
    }

    /// Hands the deliveries gathered since the last time to their consumers' functions: before the
    /// thread waits for the socket again, every burst it read goes over in one piece.
    func handOverGathered() {
        guard !handOversDue.isEmpty else { return }
        let due = handOversDue
        handOversDue.removeAll(keepingCapacity: true)
        for handOver in due { handOver.handOver() }
    }

    private func handle(_ frame: amqp_frame_t) {
        guard frame.frame_type == AMQP_FRAME_METHOD else { return }
        let method = frame.payload.method
        if takeReply(method, channel: frame.channel) { return }
        // Until its close-ok, a channel this client is closing hears nothing but the broker's own close.
        if frame.channel != 0 && !isOpen(frame.channel) && method.id != AMQPMethod.channelClose { return }
        switch method.id {
        case AMQPMethod.basicAck:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            settlePublishes(channel: frame.channel, upTo: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
        case AMQPMethod.basicNack:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            settlePublishes(channel: frame.channel, upTo: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
        case AMQPMethod.basicReturn:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let reason = "\(returned.reply_code) \(returned.reply_text.string): no queue for routing key "
                + "'\(returned.routing_key.string)' in exchange '\(returned.exchange.string)'"
            var message = amqp_message_t()
            let reply = amqp_read_message(state, frame.channel, &message, 0)
            guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
                _ = error(from: reply, operation: "read returned message", channel: frame.channel)
                return
            }
            let messageID = message.properties.messageID
            amqp_destroy_message(&message)
            markReturned(channel: frame.channel, messageID: messageID, reason: reason)
        case AMQPMethod.basicCancel:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = cancel.consumer_tag.string
            updateChannel(frame.channel) { $0.consumerTags.remove(tag) }
            consumers.removeValue(forKey: tag)?.finish(throwing: AMQPError(
                .consumerCancelled, operation: "consume", message: "the broker cancelled consumer \(tag)"))
        case AMQPMethod.channelClose:
            // The error reaches the channel's waiting call, publishes and consumers, whose owners report it.
            let error = serverException(method: method, operation: "channel \(frame.channel)", channel: frame.channel)
            logger.debug("broker closed a channel", metadata: ["amqp.error": "\(error)"])
        case AMQPMethod.connectionClose:
            let error = serverException(method: method, operation: "connection", channel: frame.channel)
            logger.warning("broker closed the connection", metadata: ["amqp.error": "\(error)"])
        case AMQPMethod.connectionBlocked:
            logger.warning("broker blocked this connection (resource alarm)")
        case AMQPMethod.connectionUnblocked:
            logger.info("broker unblocked this connection")
        default:
            logger.debug("ignored AMQP method", metadata: ["amqp.method": "\(method.id)"])
        }
    }

    private func settlePublishes(channel: amqp_channel_t, upTo tag: UInt64, multiple: Bool, nacked: Bool) {
        var settled: [PendingPublish] = []
        updateChannel(channel) { settled = $0.pendingPublishes.settle(upTo: tag, multiple: multiple) }
        for pending in settled {
            if nacked {
                pending.completion(.failure(AMQPError(.publishNacked, operation: "publish",
                                                      message: "the broker refused the message (basic.nack)")))
            } else if let reason = pending.returnReason {
                pending.completion(.failure(AMQPError(.publishReturned, operation: "publish", replyCode: 312,
                                                      message: reason)))
            } else {
                pending.completion(.success(()))
            }
        }
    }

    private func markReturned(channel: amqp_channel_t, messageID: String?, reason: String) {
        updateChannel(channel) { channelState in
            channelState.pendingPublishes.updateOldest(where: { $0.messageID == messageID && $0.returnReason == nil }) {
                $0.returnReason = reason
            }
        }
    }
}
