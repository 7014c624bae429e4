import Logging
import ServiceLifecycle

/// Keeps a piece of work connected: opens a connection, runs the work on it, and when the
/// connection breaks (a broker restart, a network fault) waits and starts over, with capped
/// exponential backoff and jitter (``ReconnectBackoff``), until the task is cancelled.
public struct Reconnector: Sendable {
    public var url: AMQPURL
    public var connectionName: String
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var logger: Logger
    /// Told of each failure before the wait: a connection refused, or one that broke.
    public var failed: @Sendable (any Error) -> Void

    public init(url: AMQPURL, connectionName: String, initialDelay: Duration = .milliseconds(200),
                maximumDelay: Duration = .seconds(5), logger: Logger,
                failed: @escaping @Sendable (any Error) -> Void = { _ in }) {
        self.url = url
        self.connectionName = connectionName
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.logger = logger
        self.failed = failed
    }

    /// Runs `work` with a connected ``AMQPConnection`` until cancelled or shut down gracefully.
    /// The connection is closed when `work` returns or throws.
    public func run(_ work: (AMQPConnection) async throws -> Void) async {
        var backoff = ReconnectBackoff(initial: initialDelay, maximum: maximumDelay)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let delay: Duration
            do {
                let connection = try await AMQPConnection.connect(to: url, name: connectionName, logger: logger)
                logger.info("connected to broker", metadata: ["amqp.url": "\(url)", "amqp.connection": "\(connectionName)"])
                backoff.reset()
                do {
                    try await work(connection)
                } catch {
                    await connection.close()
                    throw error
                }
                await connection.close()
                delay = backoff.nextDelay()
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                failed(error)
                delay = backoff.nextDelay()
                logger.warning("broker connection lost; reconnecting", metadata: [
                    "amqp.connection": "\(connectionName)", "error": "\(error)", "retry.delay": "\(delay)",
                ])
            }
            try? await Task.sleep(for: delay)
        }
    }
}
