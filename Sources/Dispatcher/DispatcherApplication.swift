import Hummingbird
import Logging
import ServiceLifecycle
import Shared

/// The dispatcher: its store, its HTTP API and the services that move messages.
///
/// `buildDispatcher` is kept apart from `main` so that tests start the very same thing.
public struct DispatcherApplication: Sendable {
    public let store: BotyardStore
    /// Wakes the robot queue: something happened that may let a waiting launch start.
    let robotQueueSignal: WakeSignal
    /// Wakes the lease keeper for a claim whose lease runs out before its next pass.
    let leaseAlarm: LeaseAlarm
    /// Wakes the trigger keeper: a trigger saved or items added may bring its next evaluation closer.
    let triggerSignal: WakeSignal
    /// Wakes the schedule keeper: a schedule or a calendar changed, and with it the next firing.
    let scheduleSignal: WakeSignal
    let configuration: DispatcherConfiguration
    let logger: Logger
    /// What `GET /metrics` shows.
    let metrics = DispatcherMetrics()

    public init(configuration: DispatcherConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        self.logger = logger
        self.store = try await BotyardStore.open(path: configuration.databasePath,
                                                 durability: configuration.durability,
                                                 secretsKey: configuration.secretsKey)
        // SQLite's process-wide settings (`CSQLiteConfig`): a warning when SQLite had started before them.
        for (applied, line) in [(StatementJournalSpill.bytes != nil, StatementJournalSpill.description),
                                (SQLiteAllocationCounting.isOff, SQLiteAllocationCounting.description)] {
            logger.log(level: applied ? .info : .warning, "\(line)")
        }
        self.robotQueueSignal = WakeSignal()
        self.leaseAlarm = LeaseAlarm()
        self.triggerSignal = WakeSignal()
        self.scheduleSignal = WakeSignal()
    }

    /// The services beside the HTTP server: the outbox relay, the event consumer, the dead-letter
    /// watcher, the robot queue, the work items' lease keeper, the queue triggers' keeper, the
    /// schedules' keeper, the credential desk and the retention keeper.
    public var brokerServices: [any Service] {
        [
            OutboxRelay(store: store, amqpURL: configuration.amqpURL, batchSize: configuration.publishBatchSize,
                        metrics: metrics, logger: logger),
            EventConsumer(store: store, amqpURL: configuration.amqpURL, metrics: metrics,
                          robotQueueSignal: robotQueueSignal, logger: logger),
            DeadLetterWatcher(store: store, amqpURL: configuration.amqpURL, robotQueueSignal: robotQueueSignal,
                              metrics: metrics, logger: logger),
            RobotQueueService(store: store, signal: robotQueueSignal, logger: logger),
            LeaseKeeper(store: store, alarm: leaseAlarm, robotQueueSignal: robotQueueSignal, logger: logger),
            TriggerKeeper(store: store, signal: triggerSignal, robotQueueSignal: robotQueueSignal, logger: logger),
            ScheduleKeeper(store: store, signal: scheduleSignal, robotQueueSignal: robotQueueSignal,
                           misfireThreshold: configuration.misfireThreshold, logger: logger),
            CredentialDesk(store: store, amqpURL: configuration.amqpURL, secretsKey: configuration.secretsKey,
                           metrics: metrics, logger: logger),
            RetentionKeeper(store: store, policy: configuration.retention, interval: configuration.retentionInterval,
                            logger: logger),
        ]
    }

    /// The HTTP application, running the broker services beside the server.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts requests.
    public func makeApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        Application(
            router: buildRouter(store: store, robotQueueSignal: robotQueueSignal,
                                leaseAlarm: leaseAlarm, triggerSignal: triggerSignal, scheduleSignal: scheduleSignal,
                                metrics: metrics),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort),
                                 serverName: "botyard-dispatcher"),
            services: brokerServices,
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func run() async throws {
        try await makeApplication { port in
            logger.info("dispatcher listening", metadata: ["http.port": "\(port)"])
        }.runService()
        // What rides in the next commit still: the last answers' audit entries, the last published rows' deletion.
        await store.commitDeferredWrites()
    }
}
