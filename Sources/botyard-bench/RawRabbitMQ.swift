import CRabbitMQ
import Foundation
import Shared

/// A connection of rabbitmq-c called directly, from one thread, with no Botyard code in the way:
/// the ceilings the dispatch path and the end-to-end path (``RawEndToEnd``) are compared with.
/// (The one place outside `Shared/AMQP` that calls the C library, on purpose.)
struct RawRabbitMQ {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let state: amqp_connection_state_t

    init(url: AMQPURL) throws {
        guard let state = amqp_new_connection(), let socket = amqp_tcp_socket_new(state) else {
            throw Failure(description: "cannot create a rabbitmq-c connection")
        }
        self.state = state
        guard amqp_socket_open(socket, url.host, Int32(url.port)) == AMQP_STATUS_OK.rawValue else {
            throw Failure(description: "cannot connect to \(url.host):\(url.port)")
        }
        var properties = amqp_empty_table
        try check(botyard_amqp_login_plain(state, url.virtualHost, 0, 131_072, 0, &properties, url.user, url.password),
                  "login")
        amqp_channel_open(state, 1)
        try check(amqp_get_rpc_reply(state), "channel.open")
    }

    func close() {
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        amqp_destroy_connection(state)
    }

    private func check(_ reply: amqp_rpc_reply_t, _ operation: String) throws {
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else { throw Failure(description: "\(operation) failed") }
    }

    func bytes(_ text: String) -> amqp_bytes_t {
        amqp_cstring_bytes(strdup(text))  // leaked on purpose: a handful of names per run
    }

    func declareQuorumQueue(_ name: String) throws {
        var entry = amqp_table_entry_t()
        entry.key = bytes("x-queue-type")
        entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
        entry.value.value.bytes = bytes("quorum")
        try withUnsafeMutablePointer(to: &entry) { pointer in
            _ = amqp_queue_declare(state, 1, bytes(name), 0, 1, 0, 0, amqp_table_t(num_entries: 1, entries: pointer))
            try check(amqp_get_rpc_reply(state), "queue.declare")
        }
    }

    /// Publishes `count` persistent messages of `size` bytes in confirm windows of `window`;
    /// returns messages per second.
    func publish(queue: String, count: Int, size: Int, window: Int) throws -> Double {
        try publishing(to: queue, size: size) { publishOne in
            let start = ContinuousClock.now
            var published: UInt64 = 0
            var confirmed: UInt64 = 0
            while published < UInt64(count) {
                for _ in 0..<min(window, count - Int(published)) {
                    try publishOne()
                    published += 1
                }
                while confirmed < published { confirmed = try nextConfirm() }
                amqp_maybe_release_buffers(state)
            }
            return Double(count) / (ContinuousClock.now - start).seconds
        }
    }

    /// Consumes `count` messages with a prefetch of `prefetch`, acknowledging each; returns
    /// messages per second.
    func consume(queue: String, count: Int, prefetch: UInt16) throws -> Double {
        try startConsuming(queue, prefetch: prefetch)
        let start = ContinuousClock.now
        for _ in 0..<count { try receiveAndAck() }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    /// The broker's own floor for a job's start: `count` persistent messages published one at a
    /// time with confirms, each once the one before was delivered to `consumer` (a connection
    /// of its own) and confirmed; returns each publish → delivery in milliseconds.
    func deliveryLatencies(queue: String, count: Int, size: Int, consumer: RawRabbitMQ) throws -> [Double] {
        try consumer.startConsuming(queue, prefetch: 1)
        return try publishing(to: queue, size: size) { publishOne in
            try (0..<count).map { _ in
                let start = ContinuousClock.now
                try publishOne()
                try consumer.receiveAndAck()
                let delivered = ContinuousClock.now - start
                _ = try nextConfirm()
                amqp_maybe_release_buffers(state)
                return delivered.seconds * 1000
            }
        }
    }

    /// Puts channel 1 in confirm mode and runs `body` with a function that publishes one persistent
    /// `size`-byte message to `queue`.
    private func publishing<Result>(to queue: String, size: Int,
                                    _ body: (_ publishOne: () throws -> Void) throws -> Result) throws -> Result {
        try selectConfirms()
        let bytes = [UInt8](repeating: 0x61, count: size)
        let routingKey = self.bytes(queue)
        return try body { try publish(bytes, routingKey: routingKey) }
    }

    /// Puts channel 1 in confirm mode: every publish from now on is confirmed (``nextConfirm()``).
    func selectConfirms() throws {
        amqp_confirm_select(state, 1)
        try check(amqp_get_rpc_reply(state), "confirm.select")
    }

    /// Publishes `body` as a persistent message through the default exchange to the queue
    /// `routingKey` names (made with ``bytes(_:)``).
    func publish(_ body: [UInt8], routingKey: amqp_bytes_t) throws {
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        properties.delivery_mode = 2
        try body.withUnsafeBytes { raw in
            let message = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
            guard amqp_basic_publish(state, 1, amqp_empty_bytes, routingKey, 0, 0, &properties, message) == 0 else {
                throw Failure(description: "basic.publish failed")
            }
        }
    }

    /// Waits for the broker's next `basic.ack`; returns the delivery tag it confirms (with all before it).
    func nextConfirm() throws -> UInt64 {
        var frame = amqp_frame_t()
        guard amqp_simple_wait_frame(state, &frame) == AMQP_STATUS_OK.rawValue,
              frame.frame_type == AMQP_FRAME_METHOD, frame.payload.method.id == 0x003C_0050
        else { throw Failure(description: "expected basic.ack") }
        return frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee.delivery_tag
    }

    func startConsuming(_ queue: String, prefetch: UInt16) throws {
        amqp_basic_qos(state, 1, 0, prefetch, 0)
        try check(amqp_get_rpc_reply(state), "basic.qos")
        amqp_basic_consume(state, 1, bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "basic.consume")
    }

    private func receiveAndAck() throws {
        try ack(receive()!)
    }

    /// Waits for the next delivery, up to `timeout` (for ever when nil); returns its delivery tag,
    /// or nil when the time passed first.
    func receive(timeout: Duration? = nil) throws -> UInt64? {
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var wait = timeval(tv_sec: Int(timeout?.components.seconds ?? 0),
                           tv_usec: Int((timeout?.components.attoseconds ?? 0) / 1_000_000_000_000))
        let reply = timeout == nil
            ? amqp_consume_message(state, &envelope, nil, 0) : amqp_consume_message(state, &envelope, &wait, 0)
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT.rawValue {
            return nil
        }
        try check(reply, "consume")
        defer { amqp_destroy_envelope(&envelope) }
        return envelope.delivery_tag
    }

    /// Acknowledges the delivery `tag` (alone).
    func ack(_ tag: UInt64) throws {
        guard amqp_basic_ack(state, 1, tag, 0) == 0 else { throw Failure(description: "basic.ack failed") }
    }
}
