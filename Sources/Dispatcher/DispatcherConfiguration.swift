import Foundation
import Shared

/// Everything the dispatcher needs to start. Defaults suit a development machine.
public struct DispatcherConfiguration: Sendable {
    public var amqpURL: AMQPURL
    /// The SQLite database file (created if missing).
    public var databasePath: String
    public var httpHost: String
    /// 0 picks a free port (see ``DispatcherApplication/start(onListening:)``).
    public var httpPort: Int
    /// Outbox rows published per confirm window.
    public var publishBatchSize: Int
    public var durability: BotyardStore.Durability
    /// How late a schedule's firing may be handled and still count as on time; later, it was
    /// missed while no dispatcher ran, and its missed-run policy applies.
    public var misfireThreshold: TimeInterval
    /// Seals the credentials stored in the database and those sent to workers (a key per group,
    /// derived from it); nil: credentials cannot be stored.
    public var secretsKey: SecretKey?
    /// What the store keeps, and how often it drops the rest.
    public var retention: RetentionPolicy
    public var retentionInterval: Duration

    public init(amqpURL: AMQPURL = AMQPURL(), databasePath: String = "botyard.sqlite", httpHost: String = "127.0.0.1",
                httpPort: Int = 8080, publishBatchSize: Int = 200, durability: BotyardStore.Durability = .full,
                misfireThreshold: TimeInterval = ScheduleFiringRule.misfireThreshold, secretsKey: SecretKey? = nil,
                retention: RetentionPolicy = RetentionPolicy(), retentionInterval: Duration = .seconds(3600)) {
        self.retention = retention
        self.retentionInterval = retentionInterval
        self.secretsKey = secretsKey
        self.amqpURL = amqpURL
        self.databasePath = databasePath
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.publishBatchSize = publishBatchSize
        self.durability = durability
        self.misfireThreshold = misfireThreshold
    }
}
