import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Applies the workers' reports from `botyard.events.dispatcher` to the store.
///
/// A message carries one report, or several (`job.batch`: a worker's reports that waited for a
/// confirm together). Reports are applied in batches (every delivery of one read from the socket,
/// one transaction for the lot) and acknowledged with one `basic.ack` only after that transaction,
/// and those of every earlier batch, committed (``InOrderAcknowledgement``), so a dispatcher crash
/// makes the broker deliver them again; the store applies each event id once.
///
/// No task waits on the way: the connection's thread decodes a batch and queues it for the store,
/// and the store's writer, once the batch committed, hands the ack over and tells the metrics and
/// the log. A task takes only the batches the store refused, to try them again.
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
                try await channel.setPrefetch(count: Self.prefetch)
                // One `basic.ack` covers a batch and every delivery before it: not sent for a batch
                // until the batches before it are stored too. Not waited for: an ack lost with the
                // connection brings the batch again, and the store applies each event id once.
                let acknowledgement = InOrderAcknowledgement<AMQPDelivery>(acknowledge: Self.heldBackAcknowledgement())
                let (refused, refusals) = AsyncStream<RefusedBatch>.makeStream()
                let consumer = try await channel.consume(queue: Topology.dispatcherEventsQueue) { deliveries in
                    guard let batch = self.decode(deliveries) else { return }
                    self.apply(batch, ticket: acknowledgement.ticket(), commit: Self.commit(of: batch.events),
                               acknowledgement: acknowledgement, refusals: refusals)
                }
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        try await consumer.ended()
                        throw AMQPError(.consumerCancelled, operation: "consume events", message: "the consumer ended")
                    }
                    // Each refused batch is tried again on its own, as the ones before it are.
                    for await batch in refused {
                        group.addTask {
                            try await self.storeRefused(batch, acknowledgement: acknowledgement, refusals: refusals)
                        }
                    }
                }
            }
        }
    }

    /// Deliveries the broker hands over before their acks: a batch holds at most these.
    static let prefetch: UInt16 = 200

    /// Acknowledges a stored batch (`multiple`) without waking the connection's thread for it,
    /// until the acks held back settle a quarter of the prefetch: it goes out with the next
    /// delivery, or within a second. Under a steady load each report's ack was a wake of that
    /// thread of its own; the broker keeps three quarters of its room to deliver meanwhile.
    /// Called in the order of the batches (``InOrderAcknowledgement``): each call settles the
    /// deliveries since the one before.
    static func heldBackAcknowledgement() -> @Sendable (AMQPDelivery) -> Void {
        // The delivery tag of the last delivery acknowledged: the ones after it up to the next
        // are what that ack settles.
        let acknowledged = Mutex<UInt64>(0)
        return { last in
            let settled = acknowledged.withLock { tag in
                defer { tag = last.deliveryTag }
                return last.deliveryTag > tag ? last.deliveryTag - tag : 1
            }
            last.ackHeldBack(multiple: true, settling: Int(settled), wakingAt: Int(prefetch) / 4)
        }
    }

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

    /// A batch the store refused, with its place in the order of acknowledgements.
    private struct RefusedBatch: Sendable {
        var batch: DecodedBatch
        var ticket: Int
        var error: StoreError
        /// The refusals of this batch so far.
        var refusals = 1
    }

    /// The batch's reports; a delivery that does not decode is parked in `botyard.dead` (nil when
    /// none decoded). Its rejection goes to the broker before the batch's ack.
    private func decode(_ deliveries: [AMQPDelivery]) -> DecodedBatch? {
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
                delivery.rejectWithoutWaiting(requeue: false)
            }
        }
        return last.map { DecodedBatch(events: events, heartbeats: heartbeats, last: $0) }
    }

    /// Queues the batch for the store. Once it committed, its deliveries are acknowledged (after
    /// every batch before it) and the metrics, the log and the robot queue learn what it did; a
    /// batch the store refuses goes to `refusals`, unacknowledged.
    private func apply(_ batch: DecodedBatch, ticket: Int, commit: BotyardStore.ReportCommit,
                       acknowledgement: InOrderAcknowledgement<AMQPDelivery>,
                       refusals: AsyncStream<RefusedBatch>.Continuation, refused: RefusedBatch? = nil) {
        store.apply(batch.events, heartbeats: batch.heartbeats, commit: commit) { result in
            switch result {
            case .success(let applied):
                acknowledgement.stored(ticket, last: batch.last)
                if let refused { self.logger.notice("events stored after \(refused.refusals) refusals") }
                self.tell(applied, of: batch)
            case .failure(let error):
                var again = refused ?? RefusedBatch(batch: batch, ticket: ticket, error: error, refusals: 0)
                again.error = error
                again.refusals += 1
                refusals.yield(again)
            }
        }
    }

    /// Tries a refused batch again a second later, committed at once. While the store refuses
    /// (a full disk, a store gone read-only), the batches after it are not acknowledged
    /// (``InOrderAcknowledgement``), so that nothing is lost should the dispatcher stop.
    private func storeRefused(_ refused: RefusedBatch, acknowledgement: InOrderAcknowledgement<AMQPDelivery>,
                              refusals: AsyncStream<RefusedBatch>.Continuation) async throws {
        if refused.refusals % 60 == 1 {
            logger.error("cannot store events; trying again each second", metadata: ["error": "\(refused.error)"])
        }
        try await Task.sleep(for: .seconds(1))
        apply(refused.batch, ticket: refused.ticket, commit: .atOnce, acknowledgement: acknowledgement,
              refusals: refusals, refused: refused)
    }

    /// Tells the metrics, the log and the robot queue what a stored batch did.
    private func tell(_ applied: BotyardStore.AppliedEvents, of batch: DecodedBatch) {
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
    }
}
