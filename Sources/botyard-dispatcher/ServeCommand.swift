import ArgumentParser
import Dispatcher
import Foundation
import Logging
import Shared

/// `botyard-dispatcher [serve]`: the dispatcher itself.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Store jobs in SQLite, publish them to RabbitMQ and serve the HTTP API (the default)."
    )

    // Environment variables are defaults read at run time, never shown by --help: the URL holds a password.
    @Option(name: .customLong("amqp-url"),
            help: "Broker URL, amqp://user:password@host:port/vhost (default: $BOTYARD_AMQP_URL, else a local broker as guest). The environment variable keeps the password out of the process list.")
    var amqpURLOption: String?

    var amqpURL: String {
        amqpURLOption ?? ProcessInfo.processInfo.environment["BOTYARD_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"
    }

    @OptionGroup var database: DatabaseOption

    @Option(help: "HTTP listen address.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("port"), help: "HTTP port, 0 picks a free one (default: $BOTYARD_HTTP_PORT, else 8080).")
    var portOption: Int?

    var port: Int { portOption ?? Int(ProcessInfo.processInfo.environment["BOTYARD_HTTP_PORT"] ?? "") ?? 8080 }

    @Option(help: "full: every commit synced to disk (survives power loss); normal: survives a dispatcher crash, faster.")
    var durability: String = "full"

    @Option(help: "Seconds a schedule's firing may be late and still be on time; later, it was missed.")
    var misfireThreshold: Double = ScheduleFiringRule.misfireThreshold

    @Option(name: .customLong("secrets-key-file"),
            help: "File of the key that seals stored credentials and those sent to workers (default: $BOTYARD_SECRETS_KEY_FILE, else the key itself in $BOTYARD_SECRETS_KEY; none: credentials cannot be stored). Create one with `botyard keys create`; keep it apart from the database.")
    var secretsKeyFile: String?

    var secretsKey: SecretKey? {
        get throws {
            try SecretKey.configured(file: secretsKeyFile, fileVariable: "BOTYARD_SECRETS_KEY_FILE",
                                     keyVariable: "BOTYARD_SECRETS_KEY")
        }
    }

    @Option(help: "Days finished jobs (not dead ones) are kept, with their history and logs.")
    var keepFinishedJobsDays: Double = 90

    @Option(help: "Days the logs of finished jobs are kept.")
    var keepJobLogsDays: Double = 30

    @Option(help: "Days the ids of applied worker reports are kept once their job has ended.")
    var keepAppliedEventsDays: Double = 14

    @Option(help: "Days a worker not heard from stays listed.")
    var keepSilentWorkersDays: Double = 7

    @Option(help: "Days the audit log's entries are kept.")
    var keepAuditDays: Double = 365

    var retention: RetentionPolicy {
        RetentionPolicy(finishedJobs: keepFinishedJobsDays * RetentionPolicy.day,
                        jobLogs: keepJobLogsDays * RetentionPolicy.day,
                        appliedEvents: keepAppliedEventsDays * RetentionPolicy.day,
                        silentWorkers: keepSilentWorkersDays * RetentionPolicy.day,
                        auditEntries: keepAuditDays * RetentionPolicy.day)
    }

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text, or json (one object per line, metadata as fields).")
    var logFormat: String = "text"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
        guard BotyardStore.Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be full or normal")
        }
        guard misfireThreshold >= 0 else { throw ValidationError("--misfire-threshold must not be negative") }
        do { _ = try AMQPURL(parsing: amqpURL) } catch { throw ValidationError("--amqp-url: \(error)") }
        do { _ = try secretsKey } catch { throw ValidationError("--secrets-key-file: \(error)") }
        guard retention.problems.isEmpty else { throw ValidationError(retention.problems.joined(separator: "; ")) }
    }

    func run() async throws {
        (LogFormat(rawValue: logFormat) ?? .text).bootstrap()
        var logger = Logger(label: "botyard.dispatcher")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let configuration = DispatcherConfiguration(
            amqpURL: try AMQPURL(parsing: amqpURL), databasePath: database.path, httpHost: host, httpPort: port,
            durability: BotyardStore.Durability(rawValue: durability) ?? .full, misfireThreshold: misfireThreshold,
            secretsKey: try secretsKey, retention: retention)
        if configuration.secretsKey == nil {
            logger.notice("no secrets key: account credentials cannot be stored, and UI bots get none")
        }
        try await DispatcherApplication(configuration: configuration, logger: logger).run()
    }
}
