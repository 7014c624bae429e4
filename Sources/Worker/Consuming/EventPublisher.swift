import Foundation
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
    /// Which reports publish now and which wait to go together.
    private var batching = ReportBatching<WaitingReport>()

    /// A report waiting for a place among the publishes in flight, with its caller.
    private struct WaitingReport {
        var event: JobEvent
        var continuation: CheckedContinuation<Turn, any Error>
    }

    /// What a waiting report's caller is told when its wait ends.
    private enum Turn {
        /// Its batch was published and confirmed.
        case published
        /// It leads the next batch: its caller publishes `leader`'s report with the followers'.
        case lead(WaitingReport, followers: [WaitingReport])
    }

    init(url: AMQPURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// Publishes `event` and returns once the broker confirmed it. Retries through broken
    /// connections for as long as `keepTrying()` holds (the delivery it reports on is still ours).
    ///
    /// Reports that arrive while a publish awaits its confirm go together in one message
    /// (``ReportBatching``), routed `job.batch`, in the order they came; a report alone goes as
    /// itself.
    func publish(_ event: JobEvent, keepTrying: @Sendable () -> Bool) async throws {
        try await retrying(keepTrying: keepTrying,
                           context: ["job.id": "\(event.jobID)", "event.kind": "\(event.kind.rawValue)"]) {
            try await publishInTurn(event)
        }
    }

    /// Publishes `event` now, or waits for a place and then either rides in another report's
    /// batch or leads a batch of its own.
    private func publishInTurn(_ event: JobEvent) async throws {
        var reports = [event]
        var riders: [CheckedContinuation<Turn, any Error>] = []
        if !batching.arrive() {
            let turn = try await withCheckedThrowingContinuation { continuation in
                batching.wait(WaitingReport(event: event, continuation: continuation))
            }
            guard case .lead(let leader, let followers) = turn else { return }
            reports = ([leader] + followers).map(\.event)
            riders = followers.map(\.continuation)
        }
        let result: Result<Void, any Error>
        do {
            try await publishOnce(Self.message(reporting: reports))
            result = .success(())
        } catch {
            result = .failure(error)
        }
        for rider in riders { rider.resume(with: result.map { .published }) }
        if let next = batching.settled() {
            next.leader.continuation.resume(returning: .lead(next.leader, followers: next.followers))
        }
        try result.get()
    }

    /// One report as itself, several as a JSON array routed `job.batch`.
    static func message(reporting events: [JobEvent]) -> AMQPMessage {
        if events.count == 1, let event = events.first {
            return AMQPMessage(exchange: Topology.eventsExchange, routingKey: event.routingKey,
                               body: JSONCodec.encode(event), messageID: event.eventID)
        }
        return AMQPMessage(exchange: Topology.eventsExchange, routingKey: JobEvent.batchRoutingKey,
                           body: JSONCodec.encode(events), messageID: UUID.random().uuidString)
    }

    /// Copies a message that can never run to `botyard.dead` with `reason` in its headers, its
    /// routing key and body unchanged; returns once the broker confirmed it.
    func park(_ delivery: AMQPDelivery, reason: String, keepTrying: @Sendable () -> Bool) async throws {
        var headers = delivery.headers
        headers[Topology.deadReasonHeader] = .string(String(reason.prefix(1024)))
        headers[Topology.parkedByHeader] = .string("worker")
        let message = AMQPMessage(exchange: Topology.deadExchange, routingKey: delivery.routingKey, body: delivery.body,
                                  messageID: delivery.messageID, contentType: nil, headers: headers)
        try await retrying(keepTrying: keepTrying, context: ["amqp.routing_key": "\(delivery.routingKey)"]) {
            try await publishOnce(message)
        }
    }

    /// Runs `attempt` until it succeeds, waiting longer after each failure (100 ms up to 5 s), for as
    /// long as `keepTrying()` holds and the task is not cancelled; a failed attempt has dropped its channel.
    private func retrying(keepTrying: @Sendable () -> Bool, context: Logger.Metadata,
                          _ attempt: () async throws -> Void) async throws {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                try await attempt()
                return
            } catch {
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
