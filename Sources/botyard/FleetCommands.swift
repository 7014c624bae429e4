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
        print(table.rendered)
    }

    /// `robot1:1/2+ui` (running / limit, a UI bot on it), `robot1:standby` while another process serves it,
    /// and `[held: cleanup failed: …]` after it while its hold lasts.
    static func describe(_ account: AccountStatus) -> String {
        guard account.served else { return "\(account.name):standby" }
        let held = account.hold.map { " [held: \($0)]" } ?? ""
        return "\(account.name):\(account.running)/\(account.limit)\(account.uiRunning ? "+ui" : "")\(held)"
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
        print("account \(cleared.account) on \(cleared.host): hold cleared by \(cleared.workers.joined(separator: ", "))")
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
