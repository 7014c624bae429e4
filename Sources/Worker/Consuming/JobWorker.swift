import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Serves a host's accounts: claims each account's lease, consumes the group's job queues for
/// it, runs each job and reports it.
///
/// A delivery is acknowledged only after the job's outcome is confirmed on `botyard.events`:
/// if this process dies, the broker hands the job to another worker, which counts it as a new
/// attempt. Per-consumer prefetch keeps what each account holds at its limit (one for UI bots),
/// and an ``AdmissionGate`` keeps the sums: the worker's slots, the account's limit across its
/// queues, one UI bot per account, and marks.
final class JobWorker: Service {
    let configuration: WorkerConfiguration
    let runner: BotRunner
    let running = RunningJobs()
    /// Cleared on shutdown: jobs still waiting for a slot then go back to the queue.
    let accepting = Atomic<Bool>(true)
    /// The accounts whose lease this process holds now.
    let served = Mutex<Set<String>>([])
    let events: EventPublisher
    let logger: Logger
    let gate: AdmissionGate
    /// Accounts held after a failed cleanup, persisted in the work directory; holds them in `gate` too.
    let holds: AccountHolds
    /// How long jobs spend in each stage here (``WorkerConfiguration/stageTimingsPath``).
    let stages = StageTimings()
    /// Gets UI bots their account's credential; nil without the group's key.
    let credentials: CredentialResolver?

    init(configuration: WorkerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.runner = BotRunner(workDirectory: configuration.workDirectory, host: configuration.host,
                                terminationGrace: configuration.terminationGrace,
                                cleanupTimeout: configuration.cleanupTimeout, pauseLimit: configuration.pauseLimit,
                                apiURL: configuration.apiURL)
        let events = EventPublisher(url: configuration.amqpURL, logger: logger)
        self.events = events
        self.credentials = configuration.credentialKey.map {
            CredentialResolver(groupKey: $0, events: events, configuration: configuration)
        }
        let gate = AdmissionGate(ledger: AdmissionLedger(slots: configuration.effectiveSlots,
                                                         accountLimits: configuration.accountLimits,
                                                         reservedEvery: configuration.reservedEvery))
        self.gate = gate
        self.holds = AccountHolds(workDirectory: configuration.workDirectory, host: configuration.host,
                                  accounts: configuration.accounts.map(\.name), gate: gate)
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
        if let path = configuration.stageTimingsPath {
            do { try stages.write(to: path) } catch {
                logger.error("stage timings not written", metadata: ["path": "\(path.path)", "error": "\(error)"])
            }
        }
    }

    /// Consumes until the connection breaks or shutdown; returns once every job taken on this
    /// connection has been reported or handed back.
    private func serve(on connection: AMQPConnection) async throws {
        let declared = try await TopologyDeclarer.declareIfPermitted(on: connection) { [group = configuration.group] in
            try await TopologyDeclarer.declareCore(on: $0)
            try await TopologyDeclarer.declareJobQueues(group: group, on: $0)
        }
        if !declared {
            logger.info("the broker user may not declare the exchanges and the group's queues: the dispatcher does")
        }
        let channel = try await connection.openChannel()
        try await TopologyDeclarer.declareControlQueue(workerID: configuration.workerID, group: configuration.group,
                                                       on: channel)
        let control = try await channel.consume(queue: Topology.controlQueue(group: configuration.group,
                                                                                workerID: configuration.workerID),
                                                exclusive: true)
        let consumers = ConsumerRegistry()
        // Leases go with the connection: after a reconnect each account is claimed anew.
        defer { served.withLock { $0.removeAll() } }

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.obey(control) }
            group.addTask { try await self.beat() }
            group.addTask { await self.releaseMemoryWhenIdle() }
            for account in configuration.accounts {
                group.addTask { try await self.server(of: account, on: connection, consumers: consumers).run() }
            }
            group.addTask {
                try await gracefulShutdown()
                try await self.drain(consumers)
                // Cancels stay obeyed until every bot has stopped.
                try? await control.cancel()
            }
        }
    }

    private func server(of account: AccountConfiguration, on connection: AMQPConnection,
                        consumers: ConsumerRegistry) -> AccountServer {
        var logger = logger
        logger[metadataKey: "bot.account"] = "\(account.name)"
        return AccountServer(
            account: account, configuration: configuration, connection: connection, consumers: consumers,
            orphans: runner.orphans, holds: holds,
            cleanUpOrphans: { orphans in await self.cleanUp(orphans, account: account.name) },
            isAccepting: { self.accepting.load(ordering: .sequentiallyConsistent) },
            setServed: { isServed in
                self.served.withLock { served in
                    if isServed { served.insert(account.name) } else { served.remove(account.name) }
                }
            },
            handle: { delivery, queue in
                await self.handle(delivery, from: queue, account: account.name, connection: connection)
            },
            logger: logger)
    }

    /// Shutdown: stop taking jobs, give the jobs admitted so far until the deadline, then stop
    /// them (and any that has not started its bot yet); their deliveries go back to the queue for
    /// another worker.
    private func drain(_ consumers: ConsumerRegistry) async throws {
        logger.info("worker shutting down", metadata: ["worker.running": "\(running.count)"])
        accepting.store(false, ordering: .sequentiallyConsistent)
        for consumer in consumers.close() { try? await consumer.cancel() }
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.shutdownDeadline
        // A broken connection cancels this task: its jobs are being handed back already.
        while gate.admitted > 0 && clock.now < deadline && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
        // Stopped bots exit within their stop grace (a polite stop) and termination grace, then the
        // account may run its cleanup; a report that cannot get out (a blocked broker) must not hold
        // the worker up for ever.
        let stopGrace = running.longestStopGrace
        running.stopAll(.shutdown)
        let settled = clock.now + stopGrace + configuration.terminationGrace + configuration.cleanupTimeout
            + .seconds(10)
        while gate.admitted > 0 && clock.now < settled && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Sends heartbeats until the worker has shut down and nothing runs any more.
    private func beat() async throws {
        while true {
            let stopping = !accepting.load(ordering: .sequentiallyConsistent)
            let loads = gate.accountLoads
            let served = served.withLock { $0 }
            let accounts = configuration.accounts.map { account in
                let load = loads[account.name]
                return AccountStatus(name: account.name, limit: load?.limit ?? 0, running: load?.running ?? 0,
                                     uiRunning: load?.uiRunning ?? false, served: served.contains(account.name),
                                     hold: holds.reason(of: account.name))
            }
            let heartbeat = WorkerHeartbeat(
                workerID: configuration.workerID, group: configuration.group, host: configuration.host,
                accounts: accounts, slots: configuration.effectiveSlots, running: running.count,
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

    /// Gives back the memory that starting up and the last runs used (``ResidentPages``) once no run
    /// has been running or begun for ``WorkerConfiguration/releaseMemoryAfter`` (looked at that
    /// often), and again after each stretch of runs. Ends with the connection, or at shutdown.
    private func releaseMemoryWhenIdle() async {
        guard let quiet = configuration.releaseMemoryAfter else { return }
        await cancelWhenGracefulShutdown {
            var last = (begun: self.running.begun, running: self.running.count)
            var released = false
            while (try? await Task.sleep(for: quiet)) != nil {
                let now = (begun: self.running.begun, running: self.running.count)
                // None ran at the last look nor now, and none began in between.
                let idle = last.running == 0 && now.running == 0 && now.begun == last.begun
                last = now
                guard idle else {
                    released = false
                    continue
                }
                guard !released else { continue }
                let result = ResidentPages.release()
                released = true
                self.logger.debug("memory released while idle", metadata: [
                    "memory.mappings": "\(result.mappings)", "memory.released_kib": "\(result.kibibytes)",
                    "memory.resident_kib": "\(ProcessMemory.residentKiB()?.now ?? -1)",
                ])
            }
        }
    }

    private func obey(_ control: AMQPConsumer) async throws {
        for try await delivery in control {
            if let message = try? JSONCodec.decode(ControlMessage.self, from: delivery.body) {
                switch message.command {
                case .cancel:
                    logger.info("cancel requested", metadata: ["job.id": "\(message.jobID)"])
                    running.cancel(jobID: message.jobID)
                case .stopRun:
                    guard let runID = message.runID else { break }
                    logger.info("stop of a run whose message no longer counts", metadata: [
                        "job.id": "\(message.jobID)", "run.id": "\(runID)",
                    ])
                    running.stop(jobID: message.jobID, runID: runID)
                case .pause:
                    let paused = running.pause(jobID: message.jobID)
                    logger.info("pause requested", metadata: ["job.id": "\(message.jobID)", "bot.paused": "\(paused)"])
                case .resume:
                    let resumed = running.resume(jobID: message.jobID)
                    logger.info("resume requested", metadata: ["job.id": "\(message.jobID)", "bot.resumed": "\(resumed)"])
                case .clearHold:
                    guard let account = message.account, configuration.accounts.contains(where: { $0.name == account })
                    else { break }
                    if holds.clear(account) {
                        logger.notice("account hold cleared by an operator", metadata: ["bot.account": "\(account)"])
                    }
                case .credential:
                    if let reply = message.credentialReply { credentials?.deliver(reply) }
                }
            } else {
                logger.warning("ignored an undecodable control message")
            }
            try await delivery.ack()
        }
    }
}
