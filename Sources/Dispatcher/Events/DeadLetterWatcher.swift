import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Reads the dispatcher's copy of `botyard.dead` (the operators' parking lot keeps its own) and
/// marks dead the jobs that were parked without the dispatcher deciding it: a message the broker
/// gave up on after its delivery limit, or one a worker could not use.
final class DeadLetterWatcher: Service {
    private let store: BotyardStore
    private let reconnector: Reconnector
    /// Wakes the robot queue: a parked launch frees its account.
    private let robotQueueSignal: WakeSignal
    private let logger: Logger

    init(store: BotyardStore, amqpURL: AMQPURL, robotQueueSignal: WakeSignal,
         metrics: DispatcherMetrics, logger: Logger) {
        self.store = store
        self.robotQueueSignal = robotQueueSignal
        self.reconnector = Reconnector(dispatcherConnection: "dead letters", url: amqpURL, metrics: metrics,
                                       logger: logger)
        self.logger = logger
    }

    func run() async throws {
        await reconnector.consume(Topology.dispatcherDeadQueue, prefetch: 50) { delivery, _ in
            try await self.handle(delivery)
        }
    }

    private func handle(_ delivery: AMQPDelivery) async throws {
        // Parked by the dispatcher itself: the job is dead already.
        guard delivery.headers[Topology.parkedByHeader]?.stringValue != "dispatcher" else {
            try await delivery.ack()
            return
        }
        guard let envelope = try? JSONCodec.decode(JobEnvelope.self, from: delivery.body) else {
            logger.error("a message no job can be found for was parked in botyard.dead", metadata: [
                "amqp.message_id": "\(delivery.messageID ?? "-")", "amqp.routing_key": "\(delivery.routingKey)",
            ])
            try await delivery.ack()
            return
        }
        // The newest death comes first in x-death; x-first-death-reason would say "expired" for
        // any message that once waited in a retry queue.
        let reason = delivery.headers[Topology.deadReasonHeader]?.stringValue
            ?? Self.reason(brokerReason: delivery.headers["x-death.0.reason"]?.stringValue)
        do {
            let result = try await store.markParked(jobID: envelope.jobID, attempt: envelope.attempt, reason: reason)
            logger.warning("job parked by the broker", metadata: ["job.id": "\(envelope.jobID)", "result": "\(result)"])
            robotQueueSignal.notify()
            try await delivery.ack()
        } catch let error as StoreError {
            logger.error("cannot store a parked job; will retry", metadata: ["job.id": "\(envelope.jobID)", "error": "\(error)"])
            try await Task.sleep(for: .seconds(1))
            try await delivery.reject(requeue: true)
        }
    }

    static func reason(brokerReason: String?) -> String {
        switch brokerReason {
        case "delivery_limit":
            "parked by the broker: delivered \(Topology.deliveryLimit) times without an outcome"
        case "rejected":
            "parked by a worker: the job's message cannot be run"
        case let other?:
            "parked by the broker (\(other))"
        case nil:
            "parked in botyard.dead"
        }
    }
}
