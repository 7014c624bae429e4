import Foundation
import Logging
import Shared

extension JobWorker {
    /// Takes one delivery for `account` from `queue`: parks it if it can never run, waits for
    /// admission, runs it and settles it.
    func handle(_ delivery: AMQPDelivery, from queue: ConsumedQueue, account: String,
                connection: AMQPConnection) async {
        var clock = stages.clock()
        do {
            let envelope: JobEnvelope
            switch Self.decode(delivery, account: account, host: configuration.host) {
            case .success(let decoded): envelope = decoded
            case .failure(let problem):
                try await park(delivery, reason: problem, connection: connection)
                return
            }
            let request = AdmissionLedger.Request(account: account, priority: envelope.priority,
                                                  needsUI: envelope.bot.needsUI, marks: envelope.bot.marks)
            let delivered = JobDelivery(message: delivery, queue: queue, envelope: envelope, account: account)
            do {
                try await gate.acquire(request)
            } catch let held as AdmissionGate.AccountHeld {
                logger.info("job handed back: \(held)", metadata: ["job.id": "\(envelope.jobID)"])
                try await handBackUnstarted(delivered, connection: connection)
                return
            }
            defer { gate.release(request) }
            guard accepting.load(ordering: .sequentiallyConsistent) else {
                try await handBackUnstarted(delivered, connection: connection)
                return
            }
            clock.reached(.admitted)
            try await run(delivered, connection: connection, clock: &clock)
        } catch {
            // The delivery stays unacknowledged; the broker gives it to another worker when this
            // connection closes.
            logger.error("job delivery not settled", metadata: ["error": "\(error)"])
        }
    }

    /// A problem that keeps a job message from ever running, in words.
    struct UnusableMessage: Error, CustomStringConvertible {
        var description: String
    }

    /// The job in `delivery`, taken for `account` on `host`.
    static func decode(_ delivery: AMQPDelivery, account: String,
                       host: String) -> Result<JobEnvelope, UnusableMessage> {
        let envelope: JobEnvelope
        do {
            envelope = try JSONCodec.decode(JobEnvelope.self, from: delivery.body)
        } catch {
            return .failure(UnusableMessage(description: "not a job message: \(error)"))
        }
        let problems = envelope.bot.problems
        guard problems.isEmpty else {
            return .failure(UnusableMessage(description: "bot \(envelope.bot.name) cannot run: "
                                                + problems.joined(separator: "; ")))
        }
        if let target = envelope.account, target != account || envelope.host != host {
            let wanted = "account \(target) on host \(envelope.host ?? "-")"
            return .failure(UnusableMessage(description: "targets \(wanted), delivered to \(account) on \(host)"))
        }
        return .success(envelope)
    }

    /// Parks a message that can never run in `botyard.dead` with the reason, then acknowledges
    /// it: never requeued in a loop, never dropped.
    private func park(_ delivery: AMQPDelivery, reason: UnusableMessage, connection: AMQPConnection) async throws {
        logger.error("unusable job message parked in botyard.dead", metadata: [
            "amqp.routing_key": "\(delivery.routingKey)", "error": "\(reason)",
        ])
        try await events.park(delivery, reason: "parked by worker \(configuration.workerID): \(reason)",
                              keepTrying: { connection.isOpen })
        try await delivery.ack()
    }

    private func run(_ delivered: JobDelivery, connection: AMQPConnection,
                     clock: inout StageTimings.Clock) async throws {
        let (delivery, envelope, account, attempt) = (delivered.message, delivered.envelope, delivered.account,
                                                      delivered.attempt)
        let runID = UUID.random().uuidString
        let runStartedAt = Date()
        @Sendable func report(_ kind: JobEvent.Kind, _ outcome: JobOutcome? = nil) async throws {
            try await self.report(kind, of: delivered, runID: runID, startedAt: runStartedAt, outcome: outcome,
                                  connection: connection)
        }

        guard !Task.isCancelled else {
            // The account's channel failed (or the worker stops) between admission and start: the
            // delivery is back in its queue already, or goes back now.
            try? await handBackUnstarted(delivered, connection: connection)
            return
        }
        guard let control = running.begin(jobID: envelope.jobID, runID: runID,
                                          stopGrace: .seconds(envelope.bot.stopGraceSeconds)) else {
            try await report(.finished, JobOutcome(result: .cancelled, reason: "cancelled before it started"))
            try await delivery.ack()
            return
        }
        defer { running.end(jobID: envelope.jobID, runID: runID) }
        let cleanup = (envelope.bot.cleanup ?? configuration.accountCleanups[account]).map {
            PendingCleanup(argv: $0, jobID: envelope.jobID, attempt: attempt, envelopeAttempt: envelope.attempt,
                           runID: runID, bot: envelope.bot.name)
        }

        // The bot starts while its `started` report is held (``HeldStartReport``) or waits for the
        // broker's confirm. `finished` goes once that report is confirmed, or in its place when it
        // has not gone (the outcome counts the start), and the delivery is acked only after that. A
        // report that cannot go out ends the run like a lost worker: the delivery goes back and the
        // job runs again as its next attempt. On a redelivery the start goes at once: the dispatcher
        // tells a rerun only from its start's report.
        let redelivered = delivered.attempt != delivered.envelope.attempt
        let start = HeldStartReport(delay: redelivered ? .zero : configuration.startReportDelay) {
            try await report(.started)
        }
        let run = await withTaskCancellationHandler {
            // The run's waits do not end with this task's cancellation (a failed channel or connection):
            // the stop that the cancellation asks for runs its whole sequence — stop file, SIGTERM, SIGKILL.
            let credential: AccountCredential?
            do {
                credential = try await self.credential(for: envelope, account: account, control: control)
            } catch {
                // Cancelled while asking: the stop the cancellation asks for is recorded here too, so that
                // the runner sees it whether or not the cancellation handler has run yet.
                if Task.isCancelled { control.stop(.handedBack) }
                guard control.stopReason != nil else {
                    return BotRunner.Report(outcome: JobOutcome(result: .failedToStart, reason: "\(error)"))
                }
                // Stopped while asking: the runner reports the stop, and starts nothing.
                credential = nil
            }
            return await runner.run(envelope, attempt: attempt, runID: runID, account: account,
                                    credential: credential, control: control, cleanup: cleanup, logger: logger)
        } onCancel: {
            // The delivery is back in its queue (or goes back now): another worker may run the job already,
            // so the bot gets no stop grace.
            control.stop(.handedBack)
        }
        if let spawnedAt = run.spawnedAt {
            clock.reached(.spawned, at: spawnedAt)
            clock.reached(.exited)
        } else {
            clock.stop()
        }
        if run.needsCleanup {
            // At once, before this job's slot is released (it is held until the cleanup has run): nothing new
            // starts on the account until its cleanup has ended.
            gate.oweCleanup(account: account)
        }
        do {
            try await start.runEnded()
            try await settle(delivered, run: run, control: control, runID: runID, report: report, clock: &clock)
        } catch {
            await start.abandon()
            await cleanUpIfNeeded(run, cleanup: cleanup, account: account)
            throw error
        }
        await cleanUpIfNeeded(run, cleanup: cleanup, account: account)
    }

    /// Publishes a report about `delivered`'s job from the run `runID` started at `startedAt`,
    /// confirmed by the broker: a start is dated then, an end carries it.
    private func report(_ kind: JobEvent.Kind, of delivered: JobDelivery, runID: String, startedAt: Date,
                        outcome: JobOutcome?, connection: AMQPConnection) async throws {
        let event = JobEvent(kind: kind, jobID: delivered.envelope.jobID, attempt: delivered.attempt,
                             envelopeAttempt: delivered.envelope.attempt, runID: runID,
                             workerID: configuration.workerID, host: configuration.host, account: delivered.account,
                             at: kind == .started ? startedAt : Date(), outcome: outcome,
                             startedAt: kind == .finished ? startedAt : nil)
        try await events.publish(event, keepTrying: { connection.isOpen })
    }

    /// Gives a job that did not start back to its queue; when the broker has deleted that queue
    /// (the message went with it), tells the dispatcher, which sends the job again, and then
    /// acknowledges the delivery.
    private func handBackUnstarted(_ delivered: JobDelivery, connection: AMQPConnection) async throws {
        guard delivered.queue.isDeleted else {
            try await delivered.message.reject(requeue: true)
            return
        }
        logger.warning("the queue of a job handed back was deleted; the dispatcher sends it again", metadata: [
            "job.id": "\(delivered.envelope.jobID)", "amqp.queue": "\(delivered.queue.name)",
        ])
        try await report(.messageLost, of: delivered, runID: UUID.random().uuidString, startedAt: Date(),
                         outcome: nil, connection: connection)
        try? await delivered.message.ack()
    }

    /// Runs the account's cleanup after a stopped or killed run (``BotRunner/Report/needsCleanup``).
    private func cleanUpIfNeeded(_ run: BotRunner.Report, cleanup: PendingCleanup?, account: String) async {
        guard run.needsCleanup else { return }
        guard let cleanup, let pid = run.pid else {
            gate.endCleanup(account: account)
            return
        }
        // Runs to its end even when the account's channel failed (this task is cancelled then): the account
        // must be reset before it takes another job. Awaited, so the task stays structured.
        let why = run.outcome.reason
        await Task { await self.cleanUp(after: cleanup, pid: pid, account: account, why: why) }.value
    }

    /// Reports the run and settles its delivery: acknowledged after its outcome, or handed back at shutdown.
    private func settle(_ delivered: JobDelivery, run: BotRunner.Report, control: RunControl, runID: String,
                        report: (JobEvent.Kind, JobOutcome?) async throws -> Void,
                        clock: inout StageTimings.Clock) async throws {
        let (delivery, envelope, account, attempt) = (delivered.message, delivered.envelope, delivered.account,
                                                      delivered.attempt)
        let outcome = run.outcome
        if control.stopReason?.handsJobBack == true {
            logger.info("job handed back", metadata: ["job.id": "\(envelope.jobID)"])
            guard !delivered.queue.isDeleted else {
                // Its message went with the queue: the dispatcher sends the job again.
                try await report(.messageLost, nil)
                try? await delivery.ack()
                return
            }
            // On a channel that failed the broker has given the delivery back already.
            try? await delivery.reject(requeue: true)
            try? await report(.returned, nil)
            return
        }
        try await report(.finished, outcome)
        clock.reached(.reported)
        // Handed to the connection's thread, which sends it on its next pass; not waited for: the slot
        // frees now. Should the connection end first, the ack goes with it and the broker delivers the
        // job again, as it would had the ack been sent and the broker not yet read it.
        delivery.ackWithoutWaiting(failed: { [logger] error in
            logger.error("job delivery not settled: its ack was not sent; the broker delivers the job again",
                         metadata: ["job.id": "\(envelope.jobID)", "error": "\(error)"])
        })
        clock.reached(.acked)
        runner.runFiles(jobID: envelope.jobID, attempt: attempt, runID: runID).remove()
        logger.info("job reported", metadata: [
            "job.id": "\(envelope.jobID)", "job.attempt": "\(attempt)", "job.result": "\(outcome.result.rawValue)",
            "bot.account": "\(account)",
        ])
    }
}

extension JobWorker {
    /// The account's credential for a bot that needs its GUI session; nil for other bots, and when
    /// the worker has no group key (it says so) or none is stored.
    private func credential(for envelope: JobEnvelope, account: String,
                            control: RunControl) async throws(CredentialUnavailable) -> AccountCredential? {
        guard envelope.bot.needsUI else { return nil }
        guard let credentials else {
            logger.warning("UI bot runs without its account's credential: the worker has no credential key", metadata: [
                "job.id": "\(envelope.jobID)", "bot.account": "\(account)",
            ])
            return nil
        }
        return try await credentials.credential(jobID: envelope.jobID, account: account,
                                                gaveUp: { control.stopReason != nil })
    }
}
