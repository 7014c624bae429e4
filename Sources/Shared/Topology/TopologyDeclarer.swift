/// Declares Botyard's exchanges and queues. Every declaration is idempotent, so dispatcher and
/// workers all declare what they use at start and after each reconnect.
public enum TopologyDeclarer {
    /// Exchanges, the dead-letter queue and the dispatcher's event queue.
    public static func declareCore(on channel: AMQPChannel) async throws {
        try await channel.declareExchange(Topology.jobsExchange, type: .topic)
        try await channel.declareExchange(Topology.retryExchange, type: .headers)
        try await channel.declareExchange(Topology.deadExchange, type: .fanout)
        try await channel.declareExchange(Topology.eventsExchange, type: .topic)
        try await channel.declareExchange(Topology.controlExchange, type: .topic)
        try await channel.declareQueue(Topology.deadQueue, arguments: Arguments.parked)
        try await channel.bindQueue(Topology.deadQueue, exchange: Topology.deadExchange, routingKey: "")
        try await channel.declareQueue(Topology.dispatcherDeadQueue, arguments: Arguments.parked)
        try await channel.bindQueue(Topology.dispatcherDeadQueue, exchange: Topology.deadExchange, routingKey: "")
        try await channel.declareQueue(Topology.dispatcherEventsQueue,
                                       arguments: Arguments.reports)
        try await channel.bindQueue(Topology.dispatcherEventsQueue, exchange: Topology.eventsExchange, routingKey: "job.*")
        try await channel.bindQueue(Topology.dispatcherEventsQueue, exchange: Topology.eventsExchange,
                                    routingKey: WorkerHeartbeat.routingKey)
        try await channel.declareQueue(Topology.credentialRequestsQueue, arguments: Arguments.credentialRequests)
        try await channel.bindQueue(Topology.credentialRequestsQueue, exchange: Topology.eventsExchange,
                                    routingKey: CredentialRequest.routingKey)
    }

    /// The job queues of a runner group: three priorities in two lanes.
    ///
    /// Quorum queues: replicated in a cluster, and their delivery limit parks a message that
    /// keeps coming back (a worker crashing on it) in `botyard.dead`. RabbitMQ 3.10 refuses
    /// `x-max-priority` on quorum queues, hence one queue per priority.
    public static func declareJobQueues(group: String, on channel: AMQPChannel) async throws {
        for lane in Topology.Lane.allCases {
            for priority in Priority.allCases {
                let routingKey = Topology.jobRoutingKey(group: group, priority: priority, lane: lane)
                try await declareJobQueue(Topology.jobQueue(group: group, priority: priority, lane: lane),
                                          routingKey: routingKey, on: channel)
            }
        }
    }

    /// The queue of launches the robot queue dispatched to one account on one host.
    public static func declareAccountQueue(host: String, account: String, on channel: AMQPChannel) async throws {
        try await declareJobQueue(Topology.accountQueue(host: host, account: account),
                                  routingKey: Topology.accountRoutingKey(host: host, account: account), on: channel)
    }

    /// The account queue of a routing key made by ``Topology/accountRoutingKey(host:account:)``.
    public static func declareAccountQueue(routingKey: String, on channel: AMQPChannel) async throws {
        guard let queue = Topology.accountQueue(routingKey: routingKey) else { return }
        try await declareJobQueue(queue, routingKey: routingKey, on: channel)
    }

    private static func declareJobQueue(_ queue: String, routingKey: String, on channel: AMQPChannel) async throws {
        try await channel.declareQueue(queue, arguments: Arguments.jobs)
        try await channel.bindQueue(queue, exchange: Topology.jobsExchange, routingKey: routingKey)
    }

    /// The TTL queue of one retry delay: messages wait `delayMilliseconds`, then dead-letter back
    /// to `botyard.jobs` with the routing key they were published with.
    public static func declareRetryQueue(delayMilliseconds: Int, on channel: AMQPChannel) async throws {
        let queue = Topology.retryQueue(delayMilliseconds: delayMilliseconds)
        var arguments = Arguments.quorum.merging(Arguments.deadLettering(to: Topology.jobsExchange)) { $1 }
        arguments["x-message-ttl"] = .int(Int64(delayMilliseconds))
        try await channel.declareQueue(queue, arguments: arguments)
        try await channel.bindQueue(queue, exchange: Topology.retryExchange, routingKey: "", arguments: [
            "x-match": "all",
            Topology.retryDelayHeader: .string(String(delayMilliseconds)),
        ])
    }

    /// A worker's own control queue: exclusive, so it lives and dies with the worker's connection.
    public static func declareControlQueue(workerID: String, group: String, on channel: AMQPChannel) async throws {
        let queue = Topology.controlQueue(group: group, workerID: workerID)
        try await channel.declareQueue(queue, durable: false, exclusive: true, autoDelete: true)
        try await channel.bindQueue(queue, exchange: Topology.controlExchange,
                                    routingKey: Topology.controlRoutingKey(group: group))
        try await channel.bindQueue(queue, exchange: Topology.controlExchange,
                                    routingKey: Topology.controlRoutingKey(workerID: workerID))
    }

    /// Runs `declarations` on a channel of its own when the connection's broker user may: a worker's
    /// user with least privilege (``BrokerPermissions``) may not declare the exchanges or its group's
    /// queues, and relies on the dispatcher or the broker's definitions for them.
    ///
    /// - Returns: false when the broker refused (`403 ACCESS_REFUSED`); other errors are thrown.
    @discardableResult
    public static func declareIfPermitted(on connection: AMQPConnection,
                                          _ declarations: (AMQPChannel) async throws -> Void) async throws -> Bool {
        let channel = try await connection.openChannel()
        do {
            try await declarations(channel)
        } catch let error as AMQPError where error.replyCode == accessRefused {
            return false  // the broker closed the channel
        } catch {
            await channel.close()
            throw error
        }
        await channel.close()
        return true
    }

    private static let accessRefused: UInt16 = 403

    /// The queues' arguments, which every declaration of a queue (and the broker definitions) must repeat
    /// exactly: the broker refuses a declaration whose arguments differ (`406 PRECONDITION_FAILED`).
    public enum Arguments {
        /// `botyard.dead` and the dispatcher's copy of it.
        public static let parked: AMQPTable = quorum
        /// The dispatcher's queue of reports: a report it cannot take is parked.
        public static let reports: AMQPTable = quorum.merging(deadLettering(to: Topology.deadExchange)) { $1 }
        /// Workers' credential requests: classic, worth answering while their worker waits.
        public static let credentialRequests: AMQPTable = [
            "x-message-ttl": .int(Int64(Topology.credentialRequestTTLMilliseconds)),
        ]
        /// A group's job queues and the accounts' queues.
        public static let jobs: AMQPTable = reports
            .merging(["x-delivery-limit": .int(Int64(Topology.deliveryLimit))]) { $1 }

        static let quorum: AMQPTable = ["x-queue-type": "quorum"]

        /// At-least-once dead-lettering: the broker keeps a message until the target queue confirmed
        /// it (needs `reject-publish` overflow), so a retry or a parked job is not dropped on the way.
        static func deadLettering(to exchange: String) -> AMQPTable {
            [
                "x-dead-letter-exchange": .string(exchange),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            ]
        }
    }
}
