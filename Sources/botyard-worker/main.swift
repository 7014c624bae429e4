import ArgumentParser
import Foundation
import Logging
import Shared
import Worker

@main
struct BotyardWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard-worker",
        abstract: "Consumes a runner group's job queues and runs the bots as child processes."
    )

    // Environment variables are defaults read at run time, never shown by --help: the URL holds a password.
    @Option(name: .customLong("amqp-url"),
            help: "Broker URL, amqp://user:password@host:port/vhost (default: $BOTYARD_AMQP_URL, else a local broker as guest). The environment variable keeps the password out of the process list.")
    var amqpURLOption: String?

    var amqpURL: String {
        amqpURLOption ?? ProcessInfo.processInfo.environment["BOTYARD_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"
    }

    @Option(help: "Runner group to serve.")
    var group: String = "default"

    @Option(help: "Worker id (default: host, pid and a random number).")
    var workerID: String?

    @Option(help: "Host name reported with each job.")
    var host: String = ProcessInfo.processInfo.hostName

    @Option(parsing: .upToNextOption,
            help: "Accounts bots run under on this host, as name or name:limit (default limit: all slots).")
    var accounts: [AccountConfiguration] = []

    @Option(help: "Bots run at once at most.")
    var maxConcurrent: Int = 20

    @Option(help: "Slots the license allows.")
    var licensedSlots: Int?

    @Option(help: "Folder for per-attempt logs and output files, and the records of running bots that a worker taking an account over reads (the same for every worker of a host).")
    var workDirectory: String = "botyard-work"

    @Option(help: "Seconds between SIGTERM and SIGKILL when a bot is stopped.")
    var terminationGrace: Int = 10

    @Option(help: "Seconds running bots may go on after SIGTERM before they are handed back.")
    var shutdownDeadline: Int = 30

    @Option(help: "Seconds between heartbeats.")
    var heartbeatInterval: Int = 5

    @Option(help: "Seconds between two claims of an account another worker process serves.")
    var leaseRetryInterval: Double = 5

    @Option(help: "Of every this many starts under a backlog, one goes to a lower priority (0: off).")
    var reservedEvery: Int = 10

    @Option(help: "Seconds an account's cleanup command may run before it is killed (and has failed).")
    var cleanupTimeout: Int = 120

    @Option(name: .customLong("account-cleanup"),
            help: "An account's cleanup command, as ACCOUNT=PROGRAM (repeatable; run without arguments) for bots that name none.")
    var accountCleanups: [String] = []

    @Option(help: ArgumentHelp("Seconds one run may spend paused in all before its bot is resumed "
                                   + "(the broker's consumer_timeout must exceed the longest bot timeout plus this)."))
    var pauseLimit: Int = 86_400

    @Option(help: "The dispatcher's HTTP API as bots reach it (given to them as BOTYARD_URL, for the botyard CLI).")
    var apiURL: String?

    @Option(help: "File the worker writes, when it stops, with how long jobs spent in each stage (JSON).")
    var stageTimings: String?

    @Option(help: ArgumentHelp("Milliseconds a run's start report is held: a run that ends sooner is reported "
                               + "once, at its end, which carries its start (0: at once)."))
    var startReportDelay: Int = 50

    @Option(help: ArgumentHelp("Seconds without a run after which the worker gives back the memory that starting "
                               + "up and its last runs used: pages of its libraries and its program, and free heap "
                               + "(0: never)."))
    var releaseMemoryAfter: Int = 10

    @Option(name: .customLong("credential-key-file"),
            help: "File of the group's credential key, which opens the account credentials the dispatcher sends for UI bots (default: $BOTYARD_CREDENTIAL_KEY_FILE, else the key itself in $BOTYARD_CREDENTIAL_KEY; none: UI bots run without them). Made by `botyard keys group`.")
    var credentialKeyFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text, or json (one object per line, metadata as fields).")
    var logFormat: String = "text"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
        do { _ = try AMQPURL(parsing: amqpURL) } catch { throw ValidationError("--amqp-url: \(error)") }
        let problems = try makeConfiguration().problems
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
    }

    func makeConfiguration() throws -> WorkerConfiguration {
        var cleanups: [String: [String]] = [:]
        for entry in accountCleanups {
            guard let equals = entry.firstIndex(of: "=") else {
                throw ValidationError("--account-cleanup \(entry): expected ACCOUNT=PROGRAM")
            }
            cleanups[String(entry[..<equals])] = [String(entry[entry.index(after: equals)...])]
        }
        return WorkerConfiguration(
            amqpURL: try AMQPURL(parsing: amqpURL), group: group, workerID: workerID, host: host, accounts: accounts,
            maxConcurrent: maxConcurrent, licensedSlots: licensedSlots,
            workDirectory: URL(fileURLWithPath: workDirectory), terminationGrace: .seconds(terminationGrace),
            shutdownDeadline: .seconds(shutdownDeadline), heartbeatInterval: .seconds(max(1, heartbeatInterval)),
            leaseRetryInterval: .milliseconds(Int(max(0.1, leaseRetryInterval) * 1000)), reservedEvery: reservedEvery,
            cleanupTimeout: .seconds(cleanupTimeout), accountCleanups: cleanups, pauseLimit: .seconds(pauseLimit),
            apiURL: apiURL, stageTimingsPath: stageTimings.map { URL(fileURLWithPath: $0) },
            credentialKey: try credentialKey, startReportDelay: .milliseconds(startReportDelay),
            releaseMemoryAfter: releaseMemoryAfter == 0 ? nil : .seconds(releaseMemoryAfter))
    }

    var credentialKey: SecretKey? {
        get throws {
            do {
                return try SecretKey.configured(file: credentialKeyFile, fileVariable: "BOTYARD_CREDENTIAL_KEY_FILE",
                                                keyVariable: "BOTYARD_CREDENTIAL_KEY")
            } catch {
                throw ValidationError("--credential-key-file: \(error)")
            }
        }
    }

    func run() async throws {
        (LogFormat(rawValue: logFormat) ?? .text).bootstrap()
        var logger = Logger(label: "botyard.worker")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await WorkerApplication(configuration: try makeConfiguration(), logger: logger).run()
    }
}

extension AccountConfiguration: ExpressibleByArgument {}
