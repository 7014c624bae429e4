import Logging
import Shared

/// Publishes the worker's reports to `botyard.events` with confirms, on a connection of its
/// own, reconnecting when it breaks.
actor EventPublisher {
    private let url: AMQPURL
    private let logger: Logger
    /// The channel in use, or the connection attempt that will give it; shared by every report
    /// waiting on it.
    private var channel: Task<AMQPChannel, any Error>?

    init(url: AMQPURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// Publishes `event` and returns once the broker confirmed it. Retries through broken
    /// connections for as long as `keepTrying()` holds (the delivery it reports on is still ours).
    func publish(_ event: JobEvent, keepTrying: @Sendable () -> Bool) async throws {
        let message = AMQPMessage(exchange: Topology.eventsExchange, routingKey: event.routingKey,
                                  body: try JSONCodec.encode(event), messageID: event.eventID)
        try await publish(message, keepTrying: keepTrying, context: [
            "job.id": "\(event.jobID)", "event.kind": "\(event.kind.rawValue)",
        ])
    }

    /// Copies a message that can never run to `botyard.dead` with `reason` in its headers, its
    /// routing key and body unchanged; returns once the broker confirmed it.
    func park(_ delivery: AMQPDelivery, reason: String, keepTrying: @Sendable () -> Bool) async throws {
        var headers = delivery.headers
        headers[Topology.deadReasonHeader] = .string(String(reason.prefix(1024)))
        headers[Topology.parkedByHeader] = .string("worker")
        let message = AMQPMessage(exchange: Topology.deadExchange, routingKey: delivery.routingKey, body: delivery.body,
                                  messageID: delivery.messageID, contentType: nil, headers: headers)
        try await publish(message, keepTrying: keepTrying, context: ["amqp.routing_key": "\(delivery.routingKey)"])
    }

    private func publish(_ message: AMQPMessage, keepTrying: @Sendable () -> Bool,
                         context: Logger.Metadata) async throws {
        var delay = Duration.milliseconds(100)
        while true {
            let current = currentChannel()
            do {
                try await current.value.publish(message)
                return
            } catch {
                await discard(current)
                guard keepTrying(), !Task.isCancelled else { throw error }
                logger.warning("cannot publish; retrying", metadata: context.merging(["error": "\(error)"]) { $1 })
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Publishes a heartbeat once, without retrying: the next one follows soon.
    func publish(_ heartbeat: WorkerHeartbeat) async throws {
        try await publishOnce(AMQPMessage(exchange: Topology.eventsExchange, routingKey: WorkerHeartbeat.routingKey,
                                          body: try JSONCodec.encode(heartbeat), persistent: false))
    }

    /// Publishes a credential request once, without retrying: the asker does (``CredentialResolver``).
    func publish(_ request: CredentialRequest) async throws {
        try await publishOnce(AMQPMessage(exchange: Topology.eventsExchange, routingKey: CredentialRequest.routingKey,
                                          body: try JSONCodec.encode(request), persistent: false))
    }

    private func publishOnce(_ message: AMQPMessage) async throws {
        let current = currentChannel()
        do {
            try await current.value.publish(message)
        } catch {
            await discard(current)
            throw error
        }
    }

    func close() async {
        if let channel { await discard(channel) }
    }

    private func currentChannel() -> Task<AMQPChannel, any Error> {
        if let channel { return channel }
        let connecting = Task { [url, logger] in
            let connection = try await AMQPConnection.connect(to: url, name: "botyard-worker events", logger: logger)
            do {
                let channel = try await connection.openChannel()
                try await channel.enableConfirms()
                return channel
            } catch {
                await connection.close()
                throw error
            }
        }
        channel = connecting
        return connecting
    }

    /// Drops a channel that failed and closes its connection, unless a newer one replaced it already.
    private func discard(_ failed: Task<AMQPChannel, any Error>) async {
        guard channel == failed else { return }
        channel = nil
        if let broken = try? await failed.value { await broken.connection.close() }
    }
}
