import Foundation
import Shared

/// Everything a worker needs to start. Defaults suit a development machine.
public struct WorkerConfiguration: Sendable {
    /// The broker.
    public var amqpURL: AMQPURL
    /// The runner group whose queues this worker consumes.
    public var group: String
    /// Unique per worker process; names its control queue.
    public var workerID: String
    /// The machine the bots run on, as launches name it (`"host"`) and jobs report it.
    public var host: String
    /// The accounts bots run under on this host, each with its concurrency limit.
    public var accounts: [AccountConfiguration]
    /// Bots run at once at most (licence permitting: see ``effectiveSlots``).
    public var maxConcurrent: Int
    /// Slots the license allows; nil means no license limit.
    public var licensedSlots: Int?
    /// Where attempt folders (log, outputs, stop file) are created.
    public var workDirectory: URL
    /// Between SIGTERM and SIGKILL when a bot is stopped.
    public var terminationGrace: Duration
    /// On shutdown, how long running bots may go on before they are stopped and handed back.
    public var shutdownDeadline: Duration
    /// Between two heartbeats; the dispatcher shows a worker silent for three of them as lost.
    public var heartbeatInterval: Duration
    /// How often an account whose lease another process holds is claimed again.
    public var leaseRetryInterval: Duration
    /// Of every this many starts under a backlog, one goes to a lower priority (0: never).
    public var reservedEvery: Int
    /// How long an account's cleanup command may run; one that takes longer is killed and has failed.
    public var cleanupTimeout: Duration
    /// Each account's own cleanup command (argv), for bots that name none.
    public var accountCleanups: [String: [String]]
    /// How long one run may spend paused in all; then its bot is resumed. The broker's `consumer_timeout`
    /// must cover the longest bot timeout plus this (see ops/rabbitmq.conf.template).
    public var pauseLimit: Duration
    /// The dispatcher's API as bots reach it (`BOTYARD_URL`), to claim work items with the
    /// `botyard` CLI; nil: bots are not told.
    public var apiURL: String?
    /// Where the worker writes, when it stops, how long jobs spent in each ``JobStage`` (JSON of
    /// ``LatencyHistogram``s); nil: not written.
    public var stageTimingsPath: URL?
    /// The key of the worker's group (``SecretKey/Purpose/group(_:)``): it opens the account
    /// credentials the dispatcher sends for UI bots. Nil: UI bots run without their credential.
    public var credentialKey: SecretKey?
    /// How long a run's `started` report is held: a run that ends sooner (a message's first
    /// delivery) is reported once, at its end, which carries its start. Zero: at once.
    public var startReportDelay: Duration
    /// How long the worker stays without a run before it gives back the memory that starting up
    /// and its last runs used (``ResidentPages``); nil: never.
    public var releaseMemoryAfter: Duration?

    public init(amqpURL: AMQPURL = AMQPURL(), group: String = "default", workerID: String? = nil,
                host: String = ProcessInfo.processInfo.hostName, accounts: [AccountConfiguration] = [],
                maxConcurrent: Int = 20, licensedSlots: Int? = nil,
                workDirectory: URL = URL(fileURLWithPath: "botyard-work"),
                terminationGrace: Duration = .seconds(10), shutdownDeadline: Duration = .seconds(30),
                heartbeatInterval: Duration = .seconds(5), leaseRetryInterval: Duration = .seconds(5),
                reservedEvery: Int = 10, cleanupTimeout: Duration = .seconds(120),
                accountCleanups: [String: [String]] = [:], pauseLimit: Duration = .seconds(86_400),
                apiURL: String? = nil, stageTimingsPath: URL? = nil, credentialKey: SecretKey? = nil,
                startReportDelay: Duration = .milliseconds(50), releaseMemoryAfter: Duration? = .seconds(10)) {
        self.credentialKey = credentialKey
        self.releaseMemoryAfter = releaseMemoryAfter
        self.startReportDelay = startReportDelay
        self.amqpURL = amqpURL
        self.group = group
        self.host = host
        self.workerID = workerID ?? "\(host)-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        self.accounts = accounts.isEmpty ? [AccountConfiguration(name: ProcessInfo.processInfo.userName)] : accounts
        self.maxConcurrent = maxConcurrent
        self.licensedSlots = licensedSlots
        self.workDirectory = workDirectory
        self.terminationGrace = terminationGrace
        self.shutdownDeadline = shutdownDeadline
        self.heartbeatInterval = heartbeatInterval
        self.leaseRetryInterval = leaseRetryInterval
        self.reservedEvery = reservedEvery
        self.cleanupTimeout = cleanupTimeout
        self.accountCleanups = accountCleanups
        self.pauseLimit = pauseLimit
        self.apiURL = apiURL
        self.stageTimingsPath = stageTimingsPath
    }

    /// Bots this worker runs at once: the smaller of `maxConcurrent` and `licensedSlots`.
    public var effectiveSlots: Int { min(maxConcurrent, licensedSlots ?? maxConcurrent) }

    /// Each account's limit; an account without one may use all of the worker's slots.
    var accountLimits: [String: Int] {
        Dictionary(uniqueKeysWithValues: accounts.map { ($0.name, min($0.limit ?? effectiveSlots, effectiveSlots)) })
    }

    /// Problems that keep the worker from starting, in words.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValidGroup(group) { problems.append(Names.groupRule) }
        if !Names.isValid(workerID) { problems.append("worker id must be a valid name") }
        if !Names.isValid(host) { problems.append("host must be a valid name") }
        if !(1...1000).contains(maxConcurrent) { problems.append("max concurrent must be between 1 and 1000") }
        if let licensedSlots, !(1...1000).contains(licensedSlots) { problems.append("licensed slots must be between 1 and 1000") }
        for account in accounts {
            if !Names.isValidAccount(account.name) { problems.append("account '\(account.name)': \(Names.accountRule)") }
            if let limit = account.limit, !(1...1000).contains(limit) {
                problems.append("account \(account.name): limit must be between 1 and 1000")
            }
        }
        if Set(accounts.map(\.name)).count != accounts.count { problems.append("an account is listed twice") }
        if let apiURL, !(apiURL.hasPrefix("http://") || apiURL.hasPrefix("https://")) {
            problems.append("api url must be an http(s) URL")
        }
        if reservedEvery < 0 { problems.append("reserved share must be 0 (off) or more") }
        if terminationGrace < .zero { problems.append("termination grace must not be negative") }
        if shutdownDeadline < .zero { problems.append("shutdown deadline must not be negative") }
        if heartbeatInterval <= .zero { problems.append("heartbeat interval must be positive") }
        if leaseRetryInterval <= .zero { problems.append("lease retry interval must be positive") }
        if cleanupTimeout <= .zero { problems.append("cleanup timeout must be positive") }
        if !(.zero ... .seconds(10)).contains(startReportDelay) {
            problems.append("start report delay must be between 0 and 10,000 ms")
        }
        if pauseLimit <= .zero { problems.append("pause limit must be positive") }
        if let releaseMemoryAfter, releaseMemoryAfter <= .zero {
            problems.append("release memory after must be positive (or none)")
        }
        for (account, argv) in accountCleanups.sorted(by: { $0.key < $1.key }) {
            if !accounts.contains(where: { $0.name == account }) {
                problems.append("a cleanup is given for account \(account), which is not served")
            }
            problems.append(contentsOf: BotDefinition.argvProblems(argv, named: "cleanup of account \(account)"))
        }
        return problems
    }
}
