import ArgumentParser
import Dispatcher
import Foundation
import Logging
import Shared

@main
struct BotyardDispatcherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard-dispatcher",
        abstract: "Stores jobs in SQLite, publishes them to RabbitMQ and serves the HTTP API."
    )

    @Option(help: "Broker URL (or BOTYARD_AMQP_URL).")
    var amqpURL: String = ProcessInfo.processInfo.environment["BOTYARD_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"

    @Option(help: "SQLite database file.")
    var database: String = ProcessInfo.processInfo.environment["BOTYARD_DATABASE"] ?? "botyard.sqlite"

    @Option(help: "HTTP listen address.")
    var host: String = "127.0.0.1"

    @Option(help: "HTTP port (0 picks a free one).")
    var port: Int = Int(ProcessInfo.processInfo.environment["BOTYARD_HTTP_PORT"] ?? "") ?? 8080

    @Option(help: "full: every commit synced to disk (survives power loss); normal: survives a dispatcher crash, faster.")
    var durability: String = "full"

    @Option(help: "Seconds a schedule's firing may be late and still be on time; later, it was missed.")
    var misfireThreshold: Double = ScheduleFiringRule.misfireThreshold

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard BotyardStore.Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be full or normal")
        }
        guard misfireThreshold >= 0 else { throw ValidationError("--misfire-threshold must not be negative") }
        do { _ = try AMQPURL(parsing: amqpURL) } catch { throw ValidationError("--amqp-url: \(error)") }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "botyard.dispatcher")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let configuration = DispatcherConfiguration(
            amqpURL: try AMQPURL(parsing: amqpURL), databasePath: database, httpHost: host, httpPort: port,
            durability: BotyardStore.Durability(rawValue: durability) ?? .full, misfireThreshold: misfireThreshold)
        try await DispatcherApplication(configuration: configuration, logger: logger).run()
    }
}
