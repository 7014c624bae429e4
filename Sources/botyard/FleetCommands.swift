import ArgumentParser
import BotyardClient
import Foundation
import Shared

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
        try connection.show(workers) { print(table.rendered) }
    }

    /// `robot1:1/2+ui` (running / limit, a UI bot on it), `robot1:standby` while another process serves it,
    /// and `[held: cleanup failed: …]` after it while its hold lasts.
    static func describe(_ account: AccountStatus) -> String {
        guard account.served else { return "\(account.name):standby" }
        let held = account.hold.map { " [held: \($0)]" } ?? ""
        return "\(account.name):\(account.running)/\(account.limit)\(account.uiRunning ? "+ui" : "")\(held)"
    }
}

struct ShowStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Jobs by state, and messages not yet confirmed by the broker.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let stats = try await connection.client.get("/v1/stats", as: DispatcherStats.self)
        var table = Table(headers: ["STATE", "JOBS"])
        for state in JobState.allCases { table.rows.append([state.rawValue, "\(stats.jobs[state.rawValue] ?? 0)"]) }
        try connection.show(stats) {
            print(table.rendered)
            print("outbox: \(stats.outbox)")
        }
    }
}

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the dispatcher answers (no token needed).")

    @OptionGroup var connection: Connection

    func run() async throws {
        let health = try await connection.client.get("/v1/health", as: [String: String].self)
        try connection.show(health) { print("dispatcher at \(connection.url): \(health["status"] ?? "?")") }
    }
}

struct ClearHold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear-hold", abstract: "Let an account whose cleanup failed take jobs again.")

    @OptionGroup var connection: Connection
    @Argument(help: "The host.") var host: String
    @Argument(help: "The account.") var account: String

    func run() async throws {
        let cleared = try await connection.client.clearHold(host: host, account: account)
        try connection.show(cleared) {
            let workers = cleared.workers.joined(separator: ", ")
            print("account \(cleared.account) on \(cleared.host): hold cleared by \(workers)")
        }
    }
}

struct ListGroups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List runner groups: waiting and running jobs, live capacity, and the admission mode each launch "
            + "method gets.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let groups = try await connection.client.get("/v1/groups", as: [GroupStatus].self)
        var table = Table(headers: ["GROUP", "WAITING", "MAX QUEUED", "RUNNING", "WORKERS", "SLOTS", "UI SLOTS"])
        for group in groups {
            table.rows.append([group.name, "\(group.waiting)", group.maxQueued.map(String.init) ?? "-", "\(group.running)",
                               "\(group.workers)", "\(group.slots)", "\(group.uiSlots)"])
        }
        try connection.show(groups) {
            print(table.rendered)
            guard !groups.isEmpty else { return }
            print("\nAdmission of a launch that names no mode, by launch method:")
            print(LaunchAdmissionRows(groups).rendered)
        }
    }
}

/// Each group's effective launch-admission table, a row per group and a column per launch method.
struct LaunchAdmissionRows {
    var table = Table(headers: ["GROUP"] + LaunchMethod.allCases.map { $0.rawValue.uppercased() })

    init(_ groups: [GroupStatus]) {
        for group in groups {
            table.rows.append([group.name] + LaunchMethod.allCases.map { group.launchAdmission[$0]?.rawValue ?? "-" })
        }
    }

    var rendered: String { table.rendered }
}

struct SetGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-group", abstract: "Set a runner group's settings.",
        discussion: """
            Replaces all of the group's settings: one left out goes back to its default (no --max-queued: no bound; \
            a launch method without --admission: Kofax's mode, schedule, queue-trigger, pipeline and workflow queue, \
            api and bot-started-by-bot bounded, manual sync).
            """)

    @OptionGroup var connection: Connection
    @Argument(help: "The group.") var name: String
    @Option(help: "Jobs that may wait before bounded launches that find no slot are refused (omit for no bound).")
    var maxQueued: Int?
    @Option(name: .customLong("admission"),
            help: ArgumentHelp("The admission mode of launches by one launch method that name none (repeatable), "
                               + "e.g. manual=queue or api=sync.", valueName: "method=mode"))
    var admission: [String] = []

    func validate() throws {
        _ = try launchAdmission()
    }

    func run() async throws {
        let settings = GroupSettings(maxQueued: maxQueued, launchAdmission: try launchAdmission())
        let group = try await connection.client.put("/v1/groups/\(name)", settings, as: GroupStatus.self)
        try connection.show(group) {
            print("group \(group.name): max queued \(group.maxQueued.map(String.init) ?? "none")")
            print(LaunchAdmissionRows([group]).rendered)
        }
    }

    private func launchAdmission() throws -> LaunchAdmissionTable {
        var table = LaunchAdmissionTable()
        for entry in admission {
            do {
                try table.set(entry)
            } catch {
                throw ValidationError("--admission \(entry): \(error.reason)")
            }
        }
        return table
    }
}
