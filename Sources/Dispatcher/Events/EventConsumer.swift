import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

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
                let consumer = try await channel.consume(queue: Topology.dispatcherEventsQueue)
                let inbox = DeliveryInbox()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await delivery in consumer { inbox.append(delivery) }
                        throw AMQPError(.consumerCancelled, operation: "consume events", message: "the consumer ended")
                    }
                    group.addTask {
                        while true {
                            try await self.handle(await inbox.take(upTo: Self.batchSize))
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Reports applied per transaction at most (and the consumer's prefetch).
    static let batchSize = 200

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
        var refusals = 0
        while true {
            do {
                let applied = try await store.apply(events, heartbeats: heartbeats)
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
                try await accepted.last?.ack(multiple: true)
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

/// Deliveries waiting to be handled, filled by the consumer and emptied in batches.
final class DeliveryInbox: Sendable {
    private let deliveries = Mutex<[AMQPDelivery]>([])
    private let arrived = WakeSignal()

    func append(_ delivery: AMQPDelivery) {
        deliveries.withLock { $0.append(delivery) }
        arrived.notify()
    }

    /// Waits until at least one delivery is there and takes up to `limit` of them, oldest first.
    func take(upTo limit: Int) async throws -> [AMQPDelivery] {
        while true {
            let batch = deliveries.withLock { waiting -> [AMQPDelivery] in
                let batch = Array(waiting.prefix(limit))
                waiting.removeFirst(batch.count)
                return batch
            }
            if !batch.isEmpty { return batch }
            await arrived.wait()
            try Task.checkCancellation()
        }
    }
}
