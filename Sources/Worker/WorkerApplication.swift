import Logging
import ServiceLifecycle
import Shared

/// A worker process: one ``JobWorker`` under a service group that turns SIGTERM and SIGINT
/// into a graceful shutdown.
public struct WorkerApplication: Sendable {
    public let configuration: WorkerConfiguration
    let logger: Logger

    public init(configuration: WorkerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The worker as a service, for callers that run their own service group (or a test).
    public var service: any Service { JobWorker(configuration: configuration, logger: logger) }

    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
