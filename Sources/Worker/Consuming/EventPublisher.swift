import Logging
import Shared

/// Publishes the worker's reports to `botyard.events` with confirms, on a connection of its
/// own, reconnecting when it breaks.
actor EventPublisher {
    private let url: AMQPURL
    private let logger: Logger
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
        var delay = Duration.milliseconds(100)
        while true {
            do {
                try await currentChannel().publish(message)
                return
            } catch {
                guard keepTrying(), !Task.isCancelled else { throw error }
                logger.warning("cannot report event; retrying", metadata: [
                    "job.id": "\(event.jobID)", "event.kind": "\(event.kind.rawValue)", "error": "\(error)",
                ])
                channel = nil
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    func close() async {
        if let channel = try? await channel?.value { await channel.connection.close() }
        channel = nil
    }

    private func currentChannel() async throws -> AMQPChannel {
        if let channel, let open = try? await channel.value, open.connection.isOpen { return open }
        // One connection attempt shared by every report waiting on it.
        let connecting = Task { [url, logger] in
            let connection = try await AMQPConnection.connect(to: url, name: "botyard-worker events", logger: logger)
            let channel = try await connection.openChannel()
            try await channel.enableConfirms()
            return channel
        }
        channel = connecting
        return try await connecting.value
    }
}
