import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Applies the workers' reports from `botyard.events.dispatcher` to the store.
///
/// A message carries one report, or several (`job.batch`: a worker's reports that waited for a
/// confirm together). Reports are applied in batches (all that have arrived, one transaction for
/// the lot) and acknowledged with one `basic.ack` only after that transaction committed, so a
/// dispatcher crash makes the broker deliver them again; the store applies each event id once.
final class EventConsumer: Service {
    private let store: BotyardStore
    private let reconnector: Reconnector
    private let relaySignal: WakeSignal
    private let robotQueueSignal: WakeSignal
    private let metrics: DispatcherMetrics
    private let logger: Logger

    init(store: BotyardStore, amqpURL: AMQPURL, metrics: DispatcherMetrics, relaySignal: WakeSignal,
         robotQueueSignal: WakeSignal, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.reconnector = Reconnector(dispatcherConnection: "events", url: amqpURL, metrics: metrics,
                                       logger: logger)
        self.relaySignal = relaySignal
        self.robotQueueSignal = robotQueueSignal
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.reconnector.run { connection in
                let channel = try await connection.openChannel()
                try await TopologyDeclarer.declareCore(on: channel)
                try await channel.setPrefetch(count: UInt16(Self.batchSize))
                let consumer = try await channel.consumeInBatches(queue: Topology.dispatcherEventsQueue)
                while true {
                    let deliveries = try await consumer.next(upTo: Self.batchSize)
                    guard !deliveries.isEmpty else {
                        throw AMQPError(.consumerCancelled, operation: "consume events", message: "the consumer ended")
                    }
                    try await self.handle(deliveries)
                }
            }
        }
    }

    /// Reports applied per transaction at most (and the consumer's prefetch).
    static let batchSize = 200

    /// Whether a batch may wait for a transaction to ride in (``BotyardStore/writeDeferred(_:_:)``):
    /// when it only says that runs started, or that workers are alive. Nothing waits on those, and
    /// under a steady load each such batch was a commit and a sync of its own. A batch with an end
    /// goes at once: a retry, a freed account, a flow's next step follow from it.
    static func mayWaitForCompany(_ events: [JobEvent]) -> Bool {
        events.allSatisfy { $0.kind == .started }
    }

    /// Applies every report that has arrived, in one transaction, then acknowledges them.
    ///
    /// While the store refuses that transaction (a full disk, a store gone read-only), the same
    /// reports are tried again each second, and none after them: handed back to the queue, they
    /// would come again after later reports of the same jobs — a run's outcome before its start.
    private func handle(_ deliveries: [AMQPDelivery]) async throws {
        var events: [JobEvent] = []
        var heartbeats: [WorkerHeartbeat] = []
        var accepted: [AMQPDelivery] = []
        for delivery in deliveries {
            do {
                if delivery.routingKey == WorkerHeartbeat.routingKey {
                    heartbeats.append(try JSONCodec.decode(WorkerHeartbeat.self, from: delivery.body))
                } else if delivery.routingKey == JobEvent.batchRoutingKey {
                    events += try JSONCodec.decode([JobEvent].self, from: delivery.body)
                } else {
                    events.append(try JSONCodec.decode(JobEvent.self, from: delivery.body))
                }
                accepted.append(delivery)
            } catch {
                logger.error("undecodable event parked in botyard.dead", metadata: ["error": "\(error)"])
                try await delivery.reject(requeue: false)
            }
        }
        guard !accepted.isEmpty else { return }
        let deferred = Self.mayWaitForCompany(events)
        var refusals = 0
        while true {
            do {
                let applied = try await store.apply(events, heartbeats: heartbeats, deferred: deferred)
                if refusals > 0 { logger.notice("events stored after \(refusals) refusals") }
                for figures in applied.figures { metrics.observe(figures) }
                for (event, result) in zip(events, applied.results) {
                    logger.info("event applied", metadata: [
                        "job.id": "\(event.jobID)", "job.attempt": "\(event.attempt)",
                        "event.kind": "\(event.kind.rawValue)", "event.result": "\(result)",
                    ])
                }
                // Woken only when there is something for them: under a steady load most batches are
                // one report, and each needless wake cost a read of the outbox or the robot queue.
                if applied.addedMessages { relaySignal.notify() }
                if applied.madeLaunchesDue { robotQueueSignal.notify() }
                // One `basic.ack` for the batch: its deliveries are the channel's oldest unsettled ones.
                // Not waited for: should it be lost with the connection, the broker delivers the
                // batch again and the store applies each event id once.
                accepted.last?.ackWithoutWaiting(multiple: true)
                return
            } catch let error as StoreError {
                // The reports stay unacknowledged: should the dispatcher stop, the broker has them all.
                if refusals % 60 == 0 {
                    logger.error("cannot store events; trying again each second", metadata: ["error": "\(error)"])
                }
                refusals += 1
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
