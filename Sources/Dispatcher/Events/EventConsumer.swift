import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Applies the workers' reports from `botyard.events.dispatcher` to the store.
///
/// A message carries one report, or several (`job.batch`: a worker's reports that waited for a
/// confirm together). Reports are applied in batches (all that have arrived, one transaction for
/// the lot) and acknowledged with one `basic.ack` only after that transaction, and those of every
/// earlier batch, committed (``InOrderAcknowledgement``), so a dispatcher crash makes the broker
/// deliver them again; the store applies each event id once.
final class EventConsumer: Service {
    private let store: BotyardStore
    private let reconnector: Reconnector
    private let robotQueueSignal: WakeSignal
    private let metrics: DispatcherMetrics
    private let logger: Logger

    init(store: BotyardStore, amqpURL: AMQPURL, metrics: DispatcherMetrics,
         robotQueueSignal: WakeSignal, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.reconnector = Reconnector(dispatcherConnection: "events", url: amqpURL, metrics: metrics,
                                       logger: logger)
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
                // One `basic.ack` covers a batch and every delivery before it: not sent for a batch
                // until the batches before it are stored too. Not waited for: an ack lost with the
                // connection brings the batch again, and the store applies each event id once.
                let acknowledgement = InOrderAcknowledgement<AMQPDelivery> { $0.ackWithoutWaiting(multiple: true) }
                try await withThrowingDiscardingTaskGroup { group in
                    while true {
                        let deliveries = try await consumer.next(upTo: Self.batchSize)
                        guard !deliveries.isEmpty else {
                            throw AMQPError(.consumerCancelled, operation: "consume events",
                                            message: "the consumer ended")
                        }
                        guard let batch = try await self.decode(deliveries) else { continue }
                        let ticket = acknowledgement.ticket()
                        // Queued here, in the order the batches came; waited for by a task of its own,
                        // so that a batch that waits for company holds none of the reports after it.
                        let applying = self.store.apply(batch.events, heartbeats: batch.heartbeats,
                                                        commit: Self.commit(of: batch.events))
                        group.addTask {
                            try await self.settle(batch, applying)
                            acknowledgement.stored(ticket, last: batch.last)
                        }
                    }
                }
            }
        }
    }

    /// Reports applied per transaction at most (and the consumer's prefetch).
    static let batchSize = 200

    /// How a batch commits. One that only says runs started, or that workers are alive, rides in
    /// the next transaction: nothing waits on it, and under a steady load each was a commit and a
    /// sync of its own. One with an end is applied at once, and commits at once only when work
    /// follows from it (a retry, a freed account, a flow's next step); a job that simply ended
    /// rides too.
    static func commit(of events: [JobEvent]) -> BotyardStore.ReportCommit {
        events.allSatisfy { $0.kind == .started } ? .riding : .ridingUnlessWorkFollows
    }

    /// Reports and heartbeats decoded from a batch of deliveries.
    private struct DecodedBatch: Sendable {
        var events: [JobEvent]
        var heartbeats: [WorkerHeartbeat]
        /// The last delivery that decoded: acknowledging it (`multiple`) settles the batch.
        var last: AMQPDelivery
    }

    /// The batch's reports; a delivery that does not decode is parked in `botyard.dead` (nil when
    /// none decoded).
    private func decode(_ deliveries: [AMQPDelivery]) async throws -> DecodedBatch? {
        var events: [JobEvent] = []
        var heartbeats: [WorkerHeartbeat] = []
        var last: AMQPDelivery?
        for delivery in deliveries {
            do {
                if delivery.routingKey == WorkerHeartbeat.routingKey {
                    heartbeats.append(try JSONCodec.decode(WorkerHeartbeat.self, from: delivery.body))
                } else if delivery.routingKey == JobEvent.batchRoutingKey {
                    events += try JSONCodec.decode([JobEvent].self, from: delivery.body)
                } else {
                    events.append(try JSONCodec.decode(JobEvent.self, from: delivery.body))
                }
                last = delivery
            } catch {
                logger.error("undecodable event parked in botyard.dead", metadata: ["error": "\(error)"])
                try await delivery.reject(requeue: false)
            }
        }
        return last.map { DecodedBatch(events: events, heartbeats: heartbeats, last: $0) }
    }

    /// Waits for a batch's reports to be stored (`applying`), then tells the metrics, the log and
    /// the robot queue; its deliveries are acknowledged after that, by the caller.
    ///
    /// While the store refuses that transaction (a full disk, a store gone read-only), the same
    /// reports are tried again each second, committed at once; the batches after them are not
    /// acknowledged meanwhile (``InOrderAcknowledgement``), so that nothing is lost should the
    /// dispatcher stop.
    private func settle(_ batch: DecodedBatch, _ applying: PendingResult<BotyardStore.AppliedEvents>) async throws {
        var applying = applying
        var refusals = 0
        while true {
            do {
                let applied = try await applying.value
                if refusals > 0 { logger.notice("events stored after \(refusals) refusals") }
                for figures in applied.figures { metrics.observe(figures) }
                for (event, result) in zip(batch.events, applied.results) {
                    logger.info("event applied", metadata: [
                        "job.id": "\(event.jobID)", "job.attempt": "\(event.attempt)",
                        "event.kind": "\(event.kind.rawValue)", "event.result": "\(result)",
                    ])
                }
                // Woken only when there is something for it: under a steady load most batches are one
                // report, and each needless wake cost a read of the robot queue. (The relay is woken by
                // the commit itself, through the store's outbox feed.)
                if applied.madeLaunchesDue { robotQueueSignal.notify() }
                return
            } catch let error as StoreError {
                if refusals % 60 == 0 {
                    logger.error("cannot store events; trying again each second", metadata: ["error": "\(error)"])
                }
                refusals += 1
                try await Task.sleep(for: .seconds(1))
                applying = store.apply(batch.events, heartbeats: batch.heartbeats, commit: .atOnce)
            }
        }
    }
}
