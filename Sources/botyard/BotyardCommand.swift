import ArgumentParser
import BotyardClient
import Foundation
import Shared

@main
struct BotyardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard",
        abstract: "Botyard's command line: bots, jobs, logs.",
        subcommands: [AddBot.self, ListBots.self, Submit.self, ListJobs.self, ShowJob.self, ShowLog.self, Cancel.self,
                      ListDead.self, Requeue.self, ListWorkers.self, ListGroups.self, SetGroup.self,
                      ListRobotQueue.self, SetCredential.self]
    )
}

/// Options every command shares.
struct Connection: ParsableArguments {
    @Option(name: .customLong("url"), help: "The dispatcher's URL (or BOTYARD_URL).")
    var url: String = ProcessInfo.processInfo.environment["BOTYARD_URL"] ?? "http://127.0.0.1:8080"

    var client: DispatcherClient {
        get throws {
            guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
                throw ValidationError("--url must be an http(s) URL")
            }
            return DispatcherClient(baseURL: base)
        }
    }
}

struct AddBot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-bot", abstract: "Register or update a bot.")

    @OptionGroup var connection: Connection
    @Option(help: "The bot's name.") var name: String
    @Option(help: "Its version.") var version: String?
    @Option(help: "Seconds one attempt may run.") var timeout: Int?
    @Option(help: "Attempts in all.") var maxAttempts: Int = 3
    @Option(help: "Milliseconds between attempts.") var waitMs: Int = 5_000
    @Option(help: "Working directory (absolute).") var workingDirectory: String?
    @Flag(help: "The bot needs the account's GUI session.") var needsUI = false
    @Option(name: .customLong("mark"), help: "A mutex tag (repeatable): runs sharing one never run on one account at once.")
    var marks: [String] = []
    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.") var argv: [String]

    func run() async throws {
        let request = CreateBotRequest(
            name: name, version: version, argv: argv, workingDirectory: workingDirectory, needsUI: needsUI,
            timeoutSeconds: timeout, retry: .fixed(maxAttempts: maxAttempts, waitMilliseconds: waitMs), marks: marks)
        let bot = try await connection.client.post("/v1/bots", request, as: BotDefinition.self)
        print("bot \(bot.name) v\(bot.version): \(bot.argv.joined(separator: " "))")
    }
}

struct ListBots: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bots", abstract: "List bots.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let bots = try await connection.client.get("/v1/bots", as: [BotDefinition].self)
        var table = Table(headers: ["BOT", "VERSION", "UI", "TIMEOUT", "ATTEMPTS", "PROGRAM"])
        for bot in bots {
            table.rows.append([bot.name, bot.version, bot.needsUI ? "yes" : "no", "\(bot.timeoutSeconds)s",
                               "\(bot.retry.maxAttempts)", bot.argv.joined(separator: " ")])
        }
        print(table.rendered)
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Submit a job.")

    @OptionGroup var connection: Connection
    @Argument(help: "The bot to run.") var bot: String
    @Option(help: "Runner group.") var group: String = "default"
    @Option(help: "high, normal or low.") var priority: Priority = .normal
    @Option(help: "dev, staging or prod.") var environment: String = "prod"
    @Option(name: .customLong("input"), help: "An input, KEY=VALUE (repeatable).") var inputs: [String] = []
    @Option(help: "Run under this account only (waits in the robot queue until it can start).") var account: String?
    @Option(help: "With --account: only on this host.") var host: String?
    @Option(help: "With --account: seconds between two tries in the robot queue (default 30).") var robotQueueWait: Int?
    @Option(help: "With --account: tries in the robot queue before the launch is dead (default 10).")
    var robotQueueMaxAttempts: Int?
    @Option(help: "queue (wait for a slot), bounded (refused when the group's maxQueued wait) or sync (run now or refuse).")
    var admission: AdmissionMode = .queue
    @Flag(help: "Wait until the job ends and print it.") var wait = false

    func run() async throws {
        var parsed: [String: String] = [:]
        for input in inputs {
            guard let equals = input.firstIndex(of: "=") else { throw ValidationError("--input \(input): expected KEY=VALUE") }
            parsed[String(input[..<equals])] = String(input[input.index(after: equals)...])
        }
        let client = try connection.client
        var robotQueue: RobotQueuePolicy?
        if robotQueueWait != nil || robotQueueMaxAttempts != nil {
            let defaults = RobotQueuePolicy()
            robotQueue = RobotQueuePolicy(waitSeconds: robotQueueWait ?? defaults.waitSeconds,
                                          maxAttempts: robotQueueMaxAttempts ?? defaults.maxAttempts)
        }
        let request = SubmitJobRequest(bot: bot, group: group, priority: priority, environment: environment,
                                       inputs: parsed, account: account, launchMethod: .manual, initiator: "cli",
                                       admission: admission, host: host, robotQueue: robotQueue)
        let created = try await client.post("/v1/jobs", request, as: JobCreated.self)
        guard wait else {
            print("job \(created.id) \(created.state.rawValue)")
            return
        }
        while true {
            let job = try await client.get("/v1/jobs/\(created.id)", as: JobSnapshot.self)
            if job.state.isTerminal {
                print(JobsTable(jobs: [job]).rendered)
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

extension Priority: ExpressibleByArgument {}
extension AdmissionMode: ExpressibleByArgument {}
extension JobState: ExpressibleByArgument {}

struct ListJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List jobs, newest first.")

    @OptionGroup var connection: Connection
    @Option(help: "Only jobs in this state.") var state: JobState?
    @Option(help: "Only jobs of this bot.") var bot: String?
    @Option(help: "Only jobs of this group.") var group: String?
    @Option(help: "At most this many.") var limit: Int = 50

    func run() async throws {
        var query = ["limit=\(limit)"]
        if let state { query.append("state=\(state.rawValue)") }
        if let bot { query.append("bot=\(bot)") }
        if let group { query.append("group=\(group)") }
        let jobs = try await connection.client.get("/v1/jobs?" + query.joined(separator: "&"), as: [JobSnapshot].self)
        print(JobsTable(jobs: jobs.reversed()).rendered)
    }
}

struct ShowJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Show a job and its history.")

    @OptionGroup var connection: Connection
    @Argument(help: "The job's id.") var id: Int64

    func run() async throws {
        let job = try await connection.client.get("/v1/jobs/\(id)", as: JobSnapshot.self)
        print(JobsTable(jobs: [job]).rendered)
        print()
        var history = Table(headers: ["AT", "ATTEMPT", "FROM", "TO", "REASON"])
        for entry in job.history ?? [] {
            history.rows.append([Timestamp.format(entry.at), "\(entry.attempt)", entry.from?.rawValue ?? "-",
                                 entry.to.rawValue, entry.reason])
        }
        print(history.rendered)
    }
}

struct ShowLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Print a job's bot output.")

    @OptionGroup var connection: Connection
    @Argument(help: "The job's id.") var id: Int64
    @Option(help: "Which attempt (default: the last).") var attempt: Int?

    func run() async throws {
        let path = "/v1/jobs/\(id)/log" + (attempt.map { "?attempt=\($0)" } ?? "")
        print(try await connection.client.text(path), terminator: "")
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a job that has not ended.")

    @OptionGroup var connection: Connection
    @Argument(help: "The job's id.") var id: Int64

    func run() async throws {
        let job = try await connection.client.post("/v1/jobs/\(id)/cancel", Optional<String>.none, as: JobSnapshot.self)
        print("job \(job.id) \(job.state.rawValue)")
    }
}

struct ListDead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dead", abstract: "List dead jobs.")

    @OptionGroup var connection: Connection

    func run() async throws {
        print(JobsTable(jobs: try await connection.client.get("/v1/dead", as: [JobSnapshot].self).reversed()).rendered)
    }
}

struct Requeue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a dead job again as a new job with fresh attempts.")

    @OptionGroup var connection: Connection
    @Argument(help: "The dead job's id.") var id: Int64

    func run() async throws {
        let created = try await connection.client.post("/v1/dead/\(id)/requeue", Optional<String>.none, as: JobCreated.self)
        print("job \(id) requeued as job \(created.id) (\(created.state.rawValue))")
    }
}

struct ListWorkers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workers", abstract: "List workers and their state.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let workers = try await connection.client.get("/v1/workers", as: [WorkerStatus].self)
        var table = Table(headers: ["WORKER", "GROUP", "HOST", "ACCOUNTS", "SLOTS", "RUNNING", "STATE", "LAST SEEN"])
        for worker in workers {
            let accounts = worker.accounts.map(Self.describe).joined(separator: " ")
            table.rows.append([worker.workerID, worker.group, worker.host, accounts, "\(worker.slots)", "\(worker.running)",
                               worker.state.rawValue, Timestamp.format(worker.lastSeen)])
        }
        print(table.rendered)
    }

    /// `robot1:1/2+ui` (running / limit, a UI bot on it), or `robot1:standby` while another process serves it.
    static func describe(_ account: AccountStatus) -> String {
        guard account.served else { return "\(account.name):standby" }
        return "\(account.name):\(account.running)/\(account.limit)\(account.uiRunning ? "+ui" : "")"
    }
}

struct ListGroups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "groups",
                                                    abstract: "List runner groups: waiting and running jobs, live capacity.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let groups = try await connection.client.get("/v1/groups", as: [GroupStatus].self)
        var table = Table(headers: ["GROUP", "WAITING", "MAX QUEUED", "RUNNING", "WORKERS", "SLOTS", "UI SLOTS"])
        for group in groups {
            table.rows.append([group.name, "\(group.waiting)", group.maxQueued.map(String.init) ?? "-", "\(group.running)",
                               "\(group.workers)", "\(group.slots)", "\(group.uiSlots)"])
        }
        print(table.rendered)
    }
}

struct SetGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-group", abstract: "Set a runner group's settings.")

    @OptionGroup var connection: Connection
    @Argument(help: "The group.") var name: String
    @Option(help: "Jobs that may wait before bounded launches are refused (omit for no bound).") var maxQueued: Int?

    func run() async throws {
        let group = try await connection.client.put("/v1/groups/\(name)", GroupSettings(maxQueued: maxQueued),
                                                    as: GroupStatus.self)
        print("group \(group.name): max queued \(group.maxQueued.map(String.init) ?? "none")")
    }
}

struct ListRobotQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "robot-queue",
                                                    abstract: "List targeted launches that wait for their account.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let entries = try await connection.client.get("/v1/robot-queue", as: [RobotQueueEntry].self)
        var table = Table(headers: ["JOB", "BOT", "VERSION", "UI", "ADDED", "LAUNCH", "INITIATOR", "HOST", "ACCOUNT",
                                    "TRIES", "REASON"])
        for entry in entries {
            table.rows.append([
                "\(entry.jobID)", entry.bot, entry.botVersion, entry.needsUI ? "yes" : "no", Timestamp.format(entry.addedAt),
                entry.launchMethod.rawValue, entry.initiator, entry.host ?? "any", entry.account,
                "\(entry.attempts)/\(entry.maxAttempts)", entry.reason,
            ])
        }
        print(table.rendered)
    }
}

struct SetCredential: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-credential",
        abstract: "Store the credential UI bots use on an account; the password is read from standard input.")

    @OptionGroup var connection: Connection
    @Argument(help: "The host.") var host: String
    @Argument(help: "The account.") var account: String
    @Option(help: "The user name to log on with.") var username: String

    func run() async throws {
        guard let password = readLine(strippingNewline: true) else {
            throw ValidationError("expected the password on standard input")
        }
        try await connection.client.putNoContent("/v1/credentials/\(host)/\(account)",
                                                     AccountCredential(username: username, password: password))
        print("credential of \(account) on \(host) stored")
    }
}

/// The one-line-per-job view of `jobs`, `job` and `submit --wait`.
struct JobsTable {
    var jobs: [JobSnapshot]

    var rendered: String {
        var table = Table(headers: ["JOB", "BOT", "GROUP", "PRIORITY", "STATE", "ATTEMPTS", "EXIT", "RAN ON", "OUTPUTS / REASON"])
        for job in jobs {
            let place = [job.host, job.ranAs].compactMap { $0 }.joined(separator: "/")
            let detail = job.state == .succeeded
                ? job.outputs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                : (job.reason ?? "")
            table.rows.append([String(job.id), job.bot, job.group, job.priority.rawValue, job.state.rawValue,
                               "\(job.attempts)/\(job.maxAttempts)", job.exitCode.map(String.init) ?? "-",
                               place.isEmpty ? "-" : place, detail])
        }
        return table.rendered
    }
}
