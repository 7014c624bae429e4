import ArgumentParser
import BotyardClient
import Foundation
import Shared

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job.",
        discussion: """
            Run by a bot (BOTYARD_JOB_TOKEN set), the new job is the bot's child: the dispatcher records it as \
            bot-started-by-bot by its job, and refuses it once that job has ended. With --wait, the command \
            exits 0 when the job succeeded and \(Self.notSucceeded) when it ended any other way (failed, dead, \
            cancelled), so a bot waiting for its child knows. Without --admission, the group's launch-admission \
            table picks the mode: by default a manual launch is sync ("No slots available" at once when no slot \
            is free) and a bot's child bounded (see botyard groups).
            """)

    /// The exit code of `--wait` for a job that ended without succeeding.
    static let notSucceeded: Int32 = 4

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
    @Option(help: """
        queue (wait for a slot), bounded (refused when no slot is free and the group's maxQueued wait) or sync \
        (run now or refuse); left out, the group's mode for manual launches (sync unless set otherwise).
        """)
    var admission: AdmissionMode?
    @Flag(help: "Wait until the job ends and print it; exit \(Self.notSucceeded) unless it succeeded.") var wait = false

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
            try connection.show(created) { print("job \(created.id) \(created.state.rawValue)") }
            return
        }
        while true {
            let job = try await client.get("/v1/jobs/\(created.id)", as: JobSnapshot.self)
            if job.state.isTerminal {
                try connection.show(job) { print(JobsTable(jobs: [job]).rendered) }
                guard job.state == .succeeded else { throw ExitCode(Self.notSucceeded) }
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

struct SubmitBatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit-batch",
        abstract: "Submit up to 1,000 jobs at once from a JSON file: all of them, or none.",
        discussion: "The file holds a JSON array of jobs written as POST /v1/jobs takes them "
            + "(bot, group, inputs, …).")

    @OptionGroup var connection: Connection
    @Option(name: .shortAndLong, help: "The JSON file (- for standard input).") var file: String

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile()
            : try Data(contentsOf: URL(fileURLWithPath: file))
        let jobs: [SubmitJobRequest]
        do {
            jobs = try JSONCodec.decode([SubmitJobRequest].self, from: data)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        let created = try await connection.client.post("/v1/jobs/batch", SubmitJobBatchRequest(jobs: jobs),
                                                       as: JobBatchCreated.self)
        try connection.show(created) {
            for job in created.jobs { print("job \(job.id) \(job.state.rawValue)") }
        }
    }
}

/// `botyard jobs`: lists jobs (the default), and pauses or resumes one.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List jobs, newest first; pause or resume a running one.",
        subcommands: [ListJobs.self, PauseJob.self, ResumeJob.self], defaultSubcommand: ListJobs.self)
}

struct ListJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List jobs, newest first.")

    @OptionGroup var connection: Connection
    @Option(help: "Only jobs in this state.") var state: JobState?
    @Option(help: "Only jobs of this bot.") var bot: String?
    @Option(help: "Only jobs of this group.") var group: String?
    @Option(help: "Only the jobs this job's bot started.") var parent: Int64?
    @Option(help: "At most this many.") var limit: Int = 50

    func run() async throws {
        var query = ["limit=\(limit)"]
        if let state { query.append("state=\(state.rawValue)") }
        if let bot { query.append("bot=\(bot)") }
        if let group { query.append("group=\(group)") }
        if let parent { query.append("parent=\(parent)") }
        let jobs = try await connection.client.get("/v1/jobs?" + query.joined(separator: "&"), as: [JobSnapshot].self)
        try connection.show(jobs) { print(JobsTable(jobs: jobs.reversed()).rendered) }
    }
}

struct ShowJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Show a job and its history.")

    @OptionGroup var connection: Connection
    @Argument(help: "The job's id.") var id: Int64

    func run() async throws {
        let job = try await connection.client.get("/v1/jobs/\(id)", as: JobSnapshot.self)
        try connection.show(job) { Self.render(job) }
    }

    static func render(_ job: JobSnapshot) {
        print(JobsTable(jobs: [job]).rendered)
        print()
        print("\(job.launchMethod.rawValue) by \(job.initiator)")
        if let children = job.children, !children.isEmpty {
            print("started jobs \(children.map(String.init).joined(separator: ", "))")
        }
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
    @Flag(help: "What the account's cleanup printed after the attempt, instead of the bot's output.")
    var cleanup = false

    func run() async throws {
        let path = "/v1/jobs/\(id)/\(cleanup ? "cleanup-log" : "log")" + (attempt.map { "?attempt=\($0)" } ?? "")
        let log = try await connection.client.text(path)
        try connection.show(Printed(job: id, attempt: attempt, cleanup: cleanup, log: log)) {
            print(log, terminator: "")
        }
    }

    /// What `--output json` prints: the log with what it is the log of.
    struct Printed: Encodable {
        var job: Int64
        var attempt: Int?
        var cleanup: Bool
        var log: String
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a job that has not ended.")

    @OptionGroup var connection: Connection
    @Argument(help: "The job's id.") var id: Int64

    func run() async throws {
        let job = try await connection.client.post("/v1/jobs/\(id)/cancel", Optional<String>.none, as: JobSnapshot.self)
        try connection.show(job) { print("job \(job.id) \(job.state.rawValue)") }
    }
}

struct PauseJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Freeze a running job's bot (SIGSTOP); its timeout clock stops too.")

    @OptionGroup var connection: Connection
    @Argument(help: "The job's id.") var id: Int64

    func run() async throws {
        let job = try await connection.client.pause(jobID: id)
        try connection.show(job) { print("job \(job.id) \(job.state.rawValue)") }
    }
}

struct ResumeJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Thaw a paused job's bot (SIGCONT).")

    @OptionGroup var connection: Connection
    @Argument(help: "The job's id.") var id: Int64

    func run() async throws {
        let job = try await connection.client.resume(jobID: id)
        try connection.show(job) { print("job \(job.id) \(job.state.rawValue)") }
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
                : (job.failureKind.map { "[\($0.rawValue)] " } ?? "") + (job.reason ?? "")
            table.rows.append([String(job.id), job.bot, job.group, job.priority.rawValue, job.state.rawValue,
                               "\(job.attempts)/\(job.maxAttempts)", job.exitCode.map(String.init) ?? "-",
                               place.isEmpty ? "-" : place, detail])
        }
        return table.rendered
    }
}
