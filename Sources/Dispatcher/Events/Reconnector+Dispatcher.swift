import Logging
import Shared

extension Reconnector {
    /// The reconnecting loop of the dispatcher's connection `name` (`publish`, `events`, …), its
    /// failures counted in `botyard_broker_errors_total{connection="<name>"}`.
    init(dispatcherConnection name: String, url: AMQPURL, metrics: DispatcherMetrics, logger: Logger) {
        metrics.brokerConnectionOpened(name)
        self.init(url: url, connectionName: "botyard-dispatcher \(name)", logger: logger) { _ in
            metrics.brokerFailed(connection: name)
        }
    }
}
