import CRabbitMQ
import Foundation
import Logging

/// The rabbitmq-c connection and everything tied to it, confined to the connection's thread.
///
/// rabbitmq-c connections are not thread-safe and their calls block, so one `ConnectionCore`
/// lives on one dedicated OS thread (never Swift's cooperative pool) and is only reached through
/// ``Mailbox`` commands. The thread loops: run queued commands, read whatever frames arrived,
/// hand the deliveries gathered for callback consumers over, then `poll` the socket and the
/// mailbox. Every pass through the library also sends due heartbeats and notices missed ones.
/// The thread never waits for the broker's reply to a method (``PendingCall``): one channel's
/// slow declare does not hold up another's acks.
final class ConnectionCore {
    let state: amqp_connection_state_t
    let logger: Logger
    /// How long the broker may take to answer a method before the connection is declared broken.
    let replyTimeout: Duration
    private(set) var failure: AMQPError?

    struct PendingPublish {
        let messageID: String?
        var returnReason: String?
        let completion: (Result<Void, AMQPError>) -> Void
    }

    struct ChannelState {
        let generation: UInt64
        /// `channel.close` was sent; the number is taken until the broker's `close-ok`.
        var isClosing = false
        /// Synchronous methods: the first one is sent and waits for its reply, the rest their turn.
        var calls: [PendingCall] = []
        /// Next delivery tag a publish gets, once the channel is in confirm mode.
        var nextPublishTag: UInt64?
        var pendingPublishes = PendingPublishes<PendingPublish>()
        var consumerTags: Set<String> = []
    }

    private(set) var channels: [amqp_channel_t: ChannelState] = [:]
    private var channelOpenings: UInt64 = 0
    var consumers: [String: DeliverySink] = [:]
    /// Consumers handed deliveries on this thread (``DeliveryHandOver``) that have some gathered.
    var handOversDue: [DeliveryHandOver] = []
    /// Handed to deliveries so that they can be acknowledged from anywhere.
    var connection: AMQPConnection?
    /// Corked by a pass of several commands or a publish of several messages, uncorked once the
    /// pass is done.
    var cork = SocketCork(descriptor: -1)

    private init(state: amqp_connection_state_t, replyTimeout: Duration, logger: Logger) {
        self.state = state
        self.replyTimeout = replyTimeout
        self.logger = logger
    }

    /// Opens the TCP connection and logs in. Runs on the connection's thread.
    static func connect(to url: AMQPURL, name: String, heartbeatSeconds: Int, replyTimeout: Duration,
                        logger: Logger) throws(AMQPError) -> ConnectionCore
    {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.connectionFailed, operation: "connect", message: "amqp_new_connection failed")
        }
        let core = ConnectionCore(state: state, replyTimeout: replyTimeout, logger: logger)
        let socket: OpaquePointer
        do throws(AMQPError) {
            if let tls = url.tls {
                socket = try makeTLSSocket(tls, state: state)
            } else {
                socket = try tcpSocket(state: state)
            }
        } catch {
            amqp_destroy_connection(state)
            throw error
        }
        var connectTimeout = timeval(tv_sec: 10, tv_usec: 0)
        let opened = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &connectTimeout)
        guard opened == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(state)
            throw AMQPError(.connectionFailed, operation: "connect to \(url.host):\(url.port)",
                            message: openFailure(opened, tls: url.tls))
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
        // Only the few calls that still wait (the message after a basic.get-ok, closing) use it.
        var rpcTimeout = timeval(tv_sec: Int(replyTimeout.components.seconds),
                                 tv_usec: Int(replyTimeout.components.attoseconds / 1_000_000_000_000))
        amqp_set_rpc_timeout(state, &rpcTimeout)
        return core
    }

    /// The thread's loop; returns when the connection is closed or broken.
    func run(mailbox: Mailbox, heartbeatSeconds: Int) {
        let socketDescriptor = amqp_get_sockfd(state)
        cork = SocketCork(descriptor: socketDescriptor)
        let pollMilliseconds = Int32(max(100, min(1000, heartbeatSeconds * 250)))
        var nextDeadlineCheck = ContinuousClock.now
        while failure == nil {
            let now = ContinuousClock.now
            if now >= nextDeadlineCheck {
                failOverdueCalls(now: now)
                nextDeadlineCheck = now + .milliseconds(100)
            }
            let commands = mailbox.drain()
            // Several commands' frames (acks, reports, batches) reach the broker together.
            if commands.count > 1 { cork.cork() }
            for command in commands {
                if let failure {
                    command.fail(failure)
                } else {
                    command.run(self)
                }
            }
            cork.uncork()
            guard failure == nil else { break }
            if amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 {
                readFrame()
                continue
            }
            handOverGathered()
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
        // It waits for the broker's close-ok: what the pass wrote, and the close, must go out first.
        cork.uncork()
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

    /// Opens the lowest free channel number; `completion` gets it once the broker confirmed.
    func openChannel(completion: @escaping (Result<ChannelID, AMQPError>) -> Void) {
        do throws(AMQPError) {
            try ensureOpen("channel.open")
        } catch {
            return completion(.failure(error))
        }
        var number: amqp_channel_t = 1
        while channels[number] != nil { number += 1 }
        channelOpenings += 1
        let channel = ChannelID(number: number, generation: channelOpenings)
        channels[number] = ChannelState(generation: channel.generation)
        call(on: channel, "channel.open", method: AMQPMethod.channelOpen, replies: [AMQPMethod.channelOpenOK],
             encode: { _ in amqp_channel_open_t(out_of_band: amqp_empty_bytes) }, reply: { _, _ in channel },
             completion: completion)
    }

    /// Closes the channel: what waits on it ends at once, and `completion` runs when the broker
    /// confirmed (the number is free again then).
    func closeChannel(_ channel: ChannelID, completion: @escaping () -> Void) {
        guard failure == nil, let channelState = channels[channel.number],
              channelState.generation == channel.generation, !channelState.isClosing
        else { return completion() }
        dropWaiters(of: channel.number, reason: AMQPError(.channelClosed, operation: "channel.close",
                                                         message: "closed by this client"))
        updateChannel(channel.number) { channelState in
            channelState.isClosing = true
            // Sent at once, even while a method waits for its reply: whatever the broker still answers
            // before its close-ok is dropped.
            channelState.calls = [PendingCall(
                operation: "channel.close", replies: [AMQPMethod.channelCloseOK],
                send: { core, number in
                    var close = amqp_channel_close_t(reply_code: UInt16(AMQP_REPLY_SUCCESS),
                                                     reply_text: amqp_empty_bytes, class_id: 0, method_id: 0)
                    return amqp_send_method(core.state, number, AMQPMethod.channelClose, &close)
                },
                complete: { core, _ in
                    core.channels.removeValue(forKey: channel.number)
                    completion()
                })]
        }
        sendFirstCall(of: channel.number)
    }

    func ensureOpen(_ operation: String) throws(AMQPError) {
        if let failure {
            throw AMQPError(.connectionClosed, operation: operation, message: failure.message)
        }
    }

    /// Throws unless `channel` is open: this very opening of its number, not closing.
    func ensureChannel(_ channel: ChannelID, _ operation: String) throws(AMQPError) {
        try ensureOpen(operation)
        guard let channelState = channels[channel.number], channelState.generation == channel.generation,
              !channelState.isClosing
        else {
            throw AMQPError(.channelClosed, operation: operation, message: "\(channel) is closed")
        }
    }

    /// Whether frames on channel `number` are for an open channel (not one this client is closing).
    func isOpen(_ number: amqp_channel_t) -> Bool {
        channels[number].map { !$0.isClosing } ?? false
    }

    /// Changes the channel's state in place: a copy taken out of `channels` and put back would
    /// copy its pending publishes (hundreds, for a relay) on every publish and confirm.
    func updateChannel(_ channel: amqp_channel_t, _ update: (inout ChannelState) -> Void) {
        guard let index = channels.index(forKey: channel) else { return }
        update(&channels.values[index])
    }

    /// Forgets the channel; everything that waited on it learns `reason`.
    private func dropChannel(_ channel: amqp_channel_t, reason: AMQPError) {
        dropWaiters(of: channel, reason: reason)
        // What is left is the close this client sent, if any.
        guard let channelState = channels.removeValue(forKey: channel) else { return }
        for call in channelState.calls { call.complete(self, .failure(reason)) }
    }

    /// Ends the channel's unconfirmed publishes, its consumers and (unless it is closing) its calls
    /// with `reason`.
    private func dropWaiters(of channel: amqp_channel_t, reason: AMQPError) {
        guard let channelState = channels[channel] else { return }
        var unconfirmed: [PendingPublish] = []
        updateChannel(channel) { channelState in
            unconfirmed = channelState.pendingPublishes.removeAll()
            channelState.consumerTags = []
            if !channelState.isClosing { channelState.calls = [] }
        }
        for pending in unconfirmed { pending.completion(.failure(reason)) }
        for tag in channelState.consumerTags {
            consumers.removeValue(forKey: tag)?.finish(throwing: reason)
        }
        if !channelState.isClosing {
            for call in channelState.calls { call.complete(self, .failure(reason)) }
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
