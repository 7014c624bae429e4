import CRabbitMQ

/// A synchronous AMQP method (a declare, a consume, a `basic.get`…) of one channel, waiting for
/// its turn or for its reply.
///
/// The connection's thread never waits for a reply: it sends the method and goes on reading
/// frames, running other channels' acks and deliveries meanwhile. A channel sends one method at
/// a time, in order; the reply frame completes the call, the next one goes out.
struct PendingCall {
    let operation: String
    /// The methods that answer this one (e.g. `basic.get-ok` or `basic.get-empty`).
    let replies: [amqp_method_number_t]
    /// Sends the method on channel `number`; returns rabbitmq-c's status.
    let send: (ConnectionCore, amqp_channel_t) -> Int32
    /// Takes the reply, on the connection's thread while the frame's memory is valid, or the
    /// failure that ended the call. Runs once.
    let complete: (ConnectionCore, Result<amqp_method_t, AMQPError>) -> Void
    /// When the broker must have answered; set when the method is sent.
    var deadline: ContinuousClock.Instant?
}

extension ConnectionCore {
    /// Queues a synchronous method on `channel`; `reply` turns the broker's answer into the call's
    /// value. `completion` runs once, on the connection's thread.
    func call<Method, Value>(
        on channel: ChannelID, _ operation: String, method id: amqp_method_number_t,
        replies: [amqp_method_number_t], encode: @escaping (CArena) -> Method,
        reply: @escaping (ConnectionCore, amqp_method_t) throws(AMQPError) -> Value,
        completion: @escaping (Result<Value, AMQPError>) -> Void
    ) {
        do throws(AMQPError) {
            try ensureChannel(channel, operation)
        } catch {
            return completion(.failure(error))
        }
        enqueue(PendingCall(
            operation: operation, replies: replies,
            send: { core, number in
                let arena = CArena()
                var method = encode(arena)
                return withExtendedLifetime(arena) { amqp_send_method(core.state, number, id, &method) }
            },
            complete: { core, result in
                completion(result.flatMap { method in Result { () throws(AMQPError) in try reply(core, method) } })
            }), on: channel.number)
    }

    /// Adds `call` to its channel's line, sending it at once when the line was empty.
    func enqueue(_ call: PendingCall, on number: amqp_channel_t) {
        var isFirst = false
        updateChannel(number) { channelState in
            channelState.calls.append(call)
            isFirst = channelState.calls.count == 1
        }
        if isFirst { sendFirstCall(of: number) }
    }

    /// Sends the call at the head of the channel's line.
    func sendFirstCall(of number: amqp_channel_t) {
        guard let call = channels[number]?.calls.first, call.deadline == nil else { return }
        let status = call.send(self, number)
        guard status == AMQP_STATUS_OK.rawValue else {
            // A socket that refuses a write is gone: every call, this one included, ends with the connection.
            return fail(AMQPError(.connectionClosed, operation: call.operation,
                                  message: String(cString: amqp_error_string2(status))))
        }
        updateChannel(number) { $0.calls[0].deadline = .now + replyTimeout }
    }

    /// Completes the channel's waiting call when `method` answers it; false when it answers none.
    func takeReply(_ method: amqp_method_t, channel number: amqp_channel_t) -> Bool {
        guard let call = channels[number]?.calls.first, call.deadline != nil, call.replies.contains(method.id) else {
            return false
        }
        updateChannel(number) { $0.calls.removeFirst() }
        call.complete(self, .success(method))
        sendFirstCall(of: number)
        return true
    }

    /// A broker that leaves a method unanswered past its deadline is not working: the connection
    /// ends, so that its users reconnect rather than wait for ever.
    func failOverdueCalls(now: ContinuousClock.Instant = .now) {
        for (number, channelState) in channels {
            guard let call = channelState.calls.first, let deadline = call.deadline, deadline < now else { continue }
            return fail(AMQPError(.connectionClosed, operation: call.operation,
                                  message: "the broker did not answer on channel \(number) within \(replyTimeout)"))
        }
    }
}
