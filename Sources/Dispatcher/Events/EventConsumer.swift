import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Applies the workers' reports from `botyard.events.dispatcher` to the store.
///
/// A report is acknowledged only after its transaction committed, so a dispatcher crash makes
/// the broker deliver it again; the store applies each event id once.
final class EventConsumer: Service {
    private let store: BotyardStore
    private let reconnector: Reconnector
    private let relaySignal: WakeSignal
    private let logger: Logger

    init(store: BotyardStore, amqpURL: AMQPURL, relaySignal: WakeSignal, logger: Logger) {
        self.store = store
        self.reconnector = Reconnector(url: amqpURL, connectionName: "botyard-dispatcher events", logger: logger)
        self.relaySignal = relaySignal
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.reconnector.run { connection in
                let channel = try await connection.openChannel()
                try await TopologyDeclarer.declareCore(on: channel)
                try await channel.setPrefetch(count: 100)
                let consumer = try await channel.consume(queue: Topology.dispatcherEventsQueue)
                for try await delivery in consumer {
                    try await self.handle(delivery)
                }
            }
        }
    }

    private func handle(_ delivery: AMQPDelivery) async throws {
        let event: JobEvent
        do {
            event = try JSONCodec.decode(JobEvent.self, from: delivery.body)
        } catch {
            logger.error("undecodable event parked in botyard.dead", metadata: ["error": "\(error)"])
            try await delivery.reject(requeue: false)
            return
        }
        do {
            let result = try store.apply(event, random: Double.random(in: 0..<1))
            logger.debug("event applied", metadata: [
                "job.id": "\(event.jobID)", "job.attempt": "\(event.attempt)", "event.kind": "\(event.kind.rawValue)",
                "event.result": "\(result)",
            ])
            relaySignal.notify()
            try await delivery.ack()
        } catch let error as StoreError {
            // Keep the event in the broker until the store can take it.
            logger.error("cannot store event; will retry", metadata: ["job.id": "\(event.jobID)", "error": "\(error)"])
            try await Task.sleep(for: .seconds(1))
            try await delivery.reject(requeue: true)
        }
    }
}
