import Logging
import ServiceLifecycle
import Shared

extension JobWorker {
    /// Serves one account for as long as the connection lives: claims its lease (standing by
    /// while another process holds it), stops what a dead predecessor left running there, then
    /// consumes the group's six job queues and the account's own queue (launches from the robot
    /// queue) on the account's behalf.
    ///
    /// Each consumer's prefetch is what the account may run from its lane (the account's limit for
    /// background bots, 1 for UI bots) plus one look-ahead: when a slot frees, the next job of
    /// every priority is already here for the ``PriorityScheduler`` to choose from. Without it,
    /// the priority whose job just ended (and was acknowledged) would have nothing waiting at that
    /// instant and lose its turn. The ``AdmissionGate`` holds the limits across queues.
    func serve(account: AccountConfiguration, on connection: AMQPConnection, consumers: ConsumerRegistry,
               gate: AdmissionGate) async throws {
        var logger = logger
        logger[metadataKey: "bot.account"] = "\(account.name)"
        guard try await claimLease(of: account, on: connection, logger: logger),
              accepting.load(ordering: .sequentiallyConsistent)
        else { return }
        let orphans = runner.orphans.reap(account: account.name)
        if !orphans.isEmpty {
            logger.warning("stopped bots a dead worker left running on the account", metadata: [
                "bot.pids": "\(orphans.map(String.init).joined(separator: ","))",
            ])
        }

        let limit = configuration.accountLimits[account.name] ?? 1
        let channel = try await connection.openChannel()
        try await TopologyDeclarer.declareAccountQueue(host: configuration.host, account: account.name, on: channel)
        var queues: [(name: String, prefetch: Int)] = []
        for lane in Topology.Lane.allCases {
            for priority in Priority.descending {
                queues.append((Topology.jobQueue(group: configuration.group, priority: priority, lane: lane),
                               (lane == .ui ? 1 : limit) + Self.lookAhead))
            }
        }
        queues.append((Topology.accountQueue(host: configuration.host, account: account.name), limit + Self.lookAhead))
        var accountConsumers: [AMQPConsumer] = []
        for queue in queues {
            try await channel.setPrefetch(count: UInt16(queue.prefetch))
            let consumer = try await channel.consume(queue: queue.name)
            accountConsumers.append(consumer)
            guard consumers.add(consumer) else {
                for consumer in accountConsumers { try? await consumer.cancel() }
                return
            }
        }
        // Reported only now, so that the dispatcher sends launches to the account's queue once it exists.
        served.withLock { _ = $0.insert(account.name) }
        logger.info("account served", metadata: ["account.limit": "\(limit)", "runner.group": "\(configuration.group)"])

        try await withThrowingDiscardingTaskGroup { group in
            for consumer in accountConsumers {
                group.addTask {
                    try await withThrowingDiscardingTaskGroup { jobs in
                        for try await delivery in consumer {
                            jobs.addTask {
                                await self.handle(delivery, account: account.name, connection: connection, gate: gate)
                            }
                        }
                    }
                }
            }
        }
    }

    static let lookAhead = 1

    /// Claims the account's lease, retrying while another process holds it; false when shutdown
    /// came first.
    private func claimLease(of account: AccountConfiguration, on connection: AMQPConnection,
                            logger: Logger) async throws -> Bool {
        var refusals = 0
        while accepting.load(ordering: .sequentiallyConsistent) {
            let channel = try await connection.openChannel()
            do {
                try await AccountLease.claim(host: configuration.host, account: account.name, on: channel)
                await channel.close()
                if refusals > 0 { logger.notice("account taken over: its lease was released") }
                return true
            } catch let refusal as AccountLease.Refused {
                await channel.close()
                if refusals == 0 { logger.warning("\(refusal); standing by") }
                refusals += 1
                do {
                    let interval = configuration.leaseRetryInterval
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                } catch is CancellationError {
                    return false
                }
            }
        }
        return false
    }
}
