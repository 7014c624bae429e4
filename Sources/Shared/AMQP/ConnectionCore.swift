import CRabbitMQ
import Foundation
import Logging

/// The rabbitmq-c connection and everything tied to it, confined to the connection's thread.
///
/// rabbitmq-c connections are not thread-safe and their calls block, so one `ConnectionCore`
/// lives on one dedicated OS thread (never Swift's cooperative pool) and is only reached through
/// ``Mailbox`` commands. The thread loops: run queued commands, read whatever frames arrived,
/// then `poll` the socket and the mailbox. Every pass through the library also sends due
/// heartbeats and notices missed ones.
final class ConnectionCore {
    let state: amqp_connection_state_t
    let logger: Logger
    private(set) var failure: AMQPError?

    struct PendingPublish {
        let messageID: String?
        var returnReason: String?
        let completion: (Result<Void, AMQPError>) -> Void
    }

    struct ChannelState {
        /// Next delivery tag a publish gets, once the channel is in confirm mode.
        var nextPublishTag: UInt64?
        var pendingPublishes: [UInt64: PendingPublish] = [:]
        var consumerTags: Set<String> = []
    }

    private(set) var channels: [amqp_channel_t: ChannelState] = [:]
    var consumers: [String: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation] = [:]
    /// Handed to deliveries so that they can be acknowledged from anywhere.
    var connection: AMQPConnection?

    private init(state: amqp_connection_state_t, logger: Logger) {
        self.state = state
        self.logger = logger
    }

    /// Opens the TCP connection and logs in. Runs on the connection's thread.
    static func connect(to url: AMQPURL, name: String, heartbeatSeconds: Int, logger: Logger) throws(AMQPError)
        -> ConnectionCore
    {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.connectionFailed, operation: "connect", message: "amqp_new_connection failed")
        }
        let core = ConnectionCore(state: state, logger: logger)
        guard let socket = amqp_tcp_socket_new(state) else {
            amqp_destroy_connection(state)
            throw AMQPError(.connectionFailed, operation: "connect", message: "amqp_tcp_socket_new failed")
        }
        var connectTimeout = timeval(tv_sec: 10, tv_usec: 0)
        let opened = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &connectTimeout)
        guard opened == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(state)
            throw AMQPError(.connectionFailed, operation: "connect to \(url.host):\(url.port)",
                            message: String(cString: amqp_error_string2(opened)))
        }
        let arena = CArena()
        defer { withExtendedLifetime(arena) {} }
        // consumer_cancel_notify: without it the broker drops a consumer whose queue is deleted
        // without a word, and the consumer would wait for deliveries forever.
        var properties = arena.table(["connection_name": .string(name), "product": "botyard",
                                      "capabilities": .table(["consumer_cancel_notify": true])])
        let reply = botyard_amqp_login_plain(
            state, url.virtualHost, 0, 131_072, Int32(heartbeatSeconds), &properties, url.user, url.password)
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            let error = core.error(from: reply, operation: "login to vhost '\(url.virtualHost)' as '\(url.user)'",
                                   channel: 0)
            amqp_destroy_connection(state)
            throw AMQPError(.connectionFailed, operation: error.operation, replyCode: error.replyCode,
                            message: error.message)
        }
        var rpcTimeout = timeval(tv_sec: 30, tv_usec: 0)
        amqp_set_rpc_timeout(state, &rpcTimeout)
        return core
    }

    /// The thread's loop; returns when the connection is closed or broken.
    func run(mailbox: Mailbox, heartbeatSeconds: Int) {
        let socketDescriptor = amqp_get_sockfd(state)
        let pollMilliseconds = Int32(max(100, min(1000, heartbeatSeconds * 250)))
        while failure == nil {
            for command in mailbox.drain() {
                if let failure {
                    command.fail(failure)
                } else {
                    command.run(self)
                }
            }
            guard failure == nil else { break }
            if amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 {
                readFrame()
                continue
            }
            var descriptors = [
                pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: mailbox.wakeDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, pollMilliseconds)
            if ready < 0 && errno != EINTR {
                fail(AMQPError(.connectionClosed, operation: "poll", message: String(cString: strerror(errno))))
                break
            }
            // A timeout still passes through the library: that is where heartbeats go out.
            if ready == 0 || descriptors[0].revents != 0 {
                readFrame()
            }
        }
        let reason = failure ?? AMQPError(.connectionClosed, operation: "close", message: "closed")
        mailbox.close(reason: reason)
        amqp_destroy_connection(state)
    }

    /// Closes the connection politely; the loop then ends.
    func close() {
        guard failure == nil else { return }
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        fail(AMQPError(.connectionClosed, operation: "close", message: "closed by this client"))
    }

    /// Ends the connection: every waiting publish and consumer learns why.
    func fail(_ error: AMQPError) {
        guard failure == nil else { return }
        failure = error
        for channel in Array(channels.keys) {
            dropChannel(channel, reason: error)
        }
        logger.debug("AMQP connection ended", metadata: ["amqp.reason": "\(error)"])
    }

    // MARK: Channels

    func openChannel() throws(AMQPError) -> amqp_channel_t {
        try ensureOpen("channel.open")
        var number: amqp_channel_t = 1
        while channels[number] != nil { number += 1 }
        _ = amqp_channel_open(state, number)
        try check(amqp_get_rpc_reply(state), operation: "channel.open", channel: number)
        channels[number] = ChannelState()
        return number
    }

    func closeChannel(_ channel: amqp_channel_t) {
        guard failure == nil, channels[channel] != nil else { return }
        let reply = amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS)
        dropChannel(channel, reason: AMQPError(.channelClosed, operation: "channel.close", message: "closed by this client"))
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            _ = error(from: reply, operation: "channel.close", channel: channel)
        }
    }

    func ensureOpen(_ operation: String) throws(AMQPError) {
        if let failure {
            throw AMQPError(.connectionClosed, operation: operation, message: failure.message)
        }
    }

    func ensureChannel(_ channel: amqp_channel_t, _ operation: String) throws(AMQPError) {
        try ensureOpen(operation)
        guard channels[channel] != nil else {
            throw AMQPError(.channelClosed, operation: operation, message: "channel \(channel) is closed")
        }
    }

    func updateChannel(_ channel: amqp_channel_t, _ update: (inout ChannelState) -> Void) {
        guard var channelState = channels[channel] else { return }
        update(&channelState)
        channels[channel] = channelState
    }

    private func dropChannel(_ channel: amqp_channel_t, reason: AMQPError) {
        guard let channelState = channels.removeValue(forKey: channel) else { return }
        for pending in channelState.pendingPublishes.sorted(by: { $0.key < $1.key }) {
            pending.value.completion(.failure(reason))
        }
        for tag in channelState.consumerTags {
            consumers.removeValue(forKey: tag)?.finish(throwing: reason)
        }
    }

    // MARK: Replies

    /// Maps an RPC reply to ``AMQPError``, answering the broker's close so that the connection
    /// (for a channel error) stays usable.
    func check(_ reply: amqp_rpc_reply_t, operation: String, channel: amqp_channel_t) throws(AMQPError) {
        guard reply.reply_type != AMQP_RESPONSE_NORMAL else { return }
        throw error(from: reply, operation: operation, channel: channel)
    }

    func error(from reply: amqp_rpc_reply_t, operation: String, channel: amqp_channel_t) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let error = AMQPError(.libraryError, operation: operation,
                                  message: String(cString: amqp_error_string2(reply.library_error)))
            // A library error mid-RPC (socket, heartbeat, timeout) leaves the connection unusable.
            fail(AMQPError(.connectionClosed, operation: operation, message: error.message))
            return error
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            return serverException(method: reply.reply, operation: operation, channel: channel)
        default:
            return AMQPError(.libraryError, operation: operation, message: "no reply from the library")
        }
    }

    /// Handles a `channel.close` or `connection.close` sent by the broker.
    func serverException(method: amqp_method_t, operation: String, channel: amqp_channel_t) -> AMQPError {
        switch method.id {
        case AMQPMethod.channelClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(.channelClosed, operation: operation, replyCode: close.reply_code,
                                  message: close.reply_text.string)
            var closeOK = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, AMQPMethod.channelCloseOK, &closeOK)
            dropChannel(channel, reason: error)
            return error
        case AMQPMethod.connectionClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let error = AMQPError(.connectionClosed, operation: operation, replyCode: close.reply_code,
                                  message: close.reply_text.string)
            var closeOK = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, AMQPMethod.connectionCloseOK, &closeOK)
            fail(error)
            return error
        default:
            return AMQPError(.brokerError, operation: operation, message: "unexpected method \(method.id)")
        }
    }
}
