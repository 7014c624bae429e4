import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Consumes the group's job queues, runs each job and reports it.
///
/// A delivery is acknowledged only after the job's outcome is confirmed on `botyard.events`:
/// if this process dies, the broker hands the job to another worker, which counts it as a new
/// attempt. A ``SlotGate`` keeps the bots running at once at the worker's effective slots.
final class JobWorker: Service {
    private let configuration: WorkerConfiguration
    private let runner: BotRunner
    private let running = RunningJobs()
    /// Cleared on shutdown: jobs still waiting for a slot then go back to the queue.
    private let accepting = Atomic<Bool>(true)
    private let events: EventPublisher
    private let logger: Logger

    init(configuration: WorkerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.runner = BotRunner(workDirectory: configuration.workDirectory, terminationGrace: configuration.terminationGrace)
        self.events = EventPublisher(url: configuration.amqpURL, logger: logger)
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(configuration.workerID)"
        self.logger = logger
    }

    func run() async throws {
        let reconnector = Reconnector(url: configuration.amqpURL,
                                      connectionName: "botyard-worker \(configuration.workerID)", logger: logger)
        await reconnector.run { connection in
            try await self.serve(on: connection)
        }
        await events.close()
    }

    /// Consumes until the connection breaks or shutdown; returns once every job taken on this
    /// connection has been reported or handed back.
    private func serve(on connection: AMQPConnection) async throws {
        let channel = try await connection.openChannel()
        try await TopologyDeclarer.declareCore(on: channel)
        try await TopologyDeclarer.declareJobQueues(group: configuration.group, on: channel)
        try await TopologyDeclarer.declareControlQueue(workerID: configuration.workerID, group: configuration.group,
                                                       on: channel)
        let controlChannel = try await connection.openChannel()
        let control = try await controlChannel.consume(queue: Topology.controlQueue(workerID: configuration.workerID),
                                                       exclusive: true)
        try await channel.setPrefetch(count: UInt16(configuration.effectiveSlots))
        let slots = SlotGate(slots: configuration.effectiveSlots)
        var jobConsumers: [AMQPConsumer] = []
        for priority in Priority.descending {
            jobConsumers.append(try await channel.consume(queue: Topology.jobQueue(group: configuration.group,
                                                                                   priority: priority)))
        }
        let consumers = jobConsumers
        logger.info("worker consuming", metadata: [
            "runner.group": "\(configuration.group)", "worker.slots": "\(configuration.effectiveSlots)",
        ])

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.obey(control) }
            group.addTask { try await self.beat() }
            for consumer in consumers {
                group.addTask {
                    try await withThrowingDiscardingTaskGroup { jobs in
                        for try await delivery in consumer {
                            jobs.addTask { await self.handle(delivery, connection: connection, slots: slots) }
                        }
                    }
                }
            }
            group.addTask {
                try await gracefulShutdown()
                try await self.drain(consumers: consumers + [control])
            }
        }
    }

    /// Shutdown: stop taking jobs, give running bots until the deadline, then stop them; their
    /// deliveries go back to the queue for another worker.
    private func drain(consumers: [AMQPConsumer]) async throws {
        logger.info("worker shutting down", metadata: ["worker.running": "\(running.count)"])
        accepting.store(false, ordering: .sequentiallyConsistent)
        for consumer in consumers { try? await consumer.cancel() }
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.shutdownDeadline
        while running.count > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        running.stopAll(.shutdown)
    }

    /// Sends heartbeats until the worker has shut down and nothing runs any more.
    private func beat() async throws {
        while true {
            let stopping = !accepting.load(ordering: .sequentiallyConsistent)
            let heartbeat = WorkerHeartbeat(
                workerID: configuration.workerID, group: configuration.group, host: configuration.host,
                accounts: configuration.accounts, slots: configuration.effectiveSlots, running: running.count,
                intervalSeconds: configuration.heartbeatInterval.seconds,
                stopping: stopping)
            do {
                try await events.publish(heartbeat)
            } catch {
                logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
            }
            if stopping && running.count == 0 { return }
            try await Task.sleep(for: stopping ? .milliseconds(200) : configuration.heartbeatInterval)
        }
    }

    private func obey(_ control: AMQPConsumer) async throws {
        for try await delivery in control {
            if let message = try? JSONCodec.decode(ControlMessage.self, from: delivery.body) {
                switch message.command {
                case .cancel:
                    logger.info("cancel requested", metadata: ["job.id": "\(message.jobID)"])
                    running.cancel(jobID: message.jobID)
                }
            } else {
                logger.warning("ignored an undecodable control message")
            }
            try await delivery.ack()
        }
    }

    private func handle(_ delivery: AMQPDelivery, connection: AMQPConnection, slots: SlotGate) async {
        do {
            let priority = Priority(rawValue: String(delivery.routingKey.split(separator: ".").last ?? "")) ?? .normal
            try await slots.acquire(priority: priority)
            defer { slots.release() }
            guard accepting.load(ordering: .sequentiallyConsistent) else {
                try await delivery.reject(requeue: true)
                return
            }
            try await process(delivery, connection: connection)
        } catch {
            // The delivery stays unacknowledged; the broker gives it to another worker when this
            // connection closes.
            logger.error("job delivery not settled", metadata: ["error": "\(error)"])
        }
    }

    private func process(_ delivery: AMQPDelivery, connection: AMQPConnection) async throws {
        let envelope: JobEnvelope
        do {
            envelope = try JSONCodec.decode(JobEnvelope.self, from: delivery.body)
            let problems = envelope.bot.problems
            guard problems.isEmpty else {
                throw CodecError(type: "JobEnvelope", detail: problems.joined(separator: "; "))
            }
        } catch {
            // A message that can never run: parked, never requeued in a loop.
            logger.error("unusable job message parked in botyard.dead", metadata: [
                "amqp.routing_key": "\(delivery.routingKey)", "error": "\(error)",
            ])
            try await delivery.reject(requeue: false)
            return
        }
        // A redelivery means a worker took this message and vanished: the bot hears it as the next attempt.
        let attempt = envelope.attempt + delivery.deliveryCount
        let runID = UUID().uuidString
        let account = envelope.account ?? configuration.accounts[0]
        let keepTrying: @Sendable () -> Bool = { connection.isOpen }
        func report(_ kind: JobEvent.Kind, _ outcome: JobOutcome? = nil) async throws {
            let event = JobEvent(kind: kind, jobID: envelope.jobID, attempt: attempt, envelopeAttempt: envelope.attempt,
                                 runID: runID, workerID: configuration.workerID, host: configuration.host,
                                 account: account, outcome: outcome)
            try await events.publish(event, keepTrying: keepTrying)
        }

        guard let control = running.begin(jobID: envelope.jobID, runID: runID) else {
            try await report(.finished, JobOutcome(result: .cancelled, reason: "cancelled before it started"))
            try await delivery.ack()
            return
        }
        defer { running.end(jobID: envelope.jobID, runID: runID) }

        try await report(.started)
        let outcome = await withTaskCancellationHandler {
            await runner.run(envelope, attempt: attempt, runID: runID, account: account, control: control,
                             logger: logger)
        } onCancel: {
            control.stop(.shutdown)
        }
        if control.stopReason == .shutdown {
            logger.info("job handed back", metadata: ["job.id": "\(envelope.jobID)"])
            try await delivery.reject(requeue: true)
            try? await report(.returned)
            return
        }
        try await report(.finished, outcome)
        try await delivery.ack()
        let runDirectory = runner.runDirectory(jobID: envelope.jobID, attempt: attempt, runID: runID)
        try? FileManager.default.removeItem(at: runDirectory)
        rmdir(runDirectory.deletingLastPathComponent().path)  // the job's folder, once its last run is gone
        logger.info("job reported", metadata: [
            "job.id": "\(envelope.jobID)", "job.attempt": "\(attempt)", "job.result": "\(outcome.result.rawValue)",
        ])
    }
}
