import ArgumentParser
import BotyardClient
import Foundation
import Shared

/// `botyard item …`: what a bot does with work items, from a shell loop.
struct WorkItemCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "item", abstract: "Claim a work item, extend its lease, complete or fail it; show one.",
        subcommands: [ClaimItem.self, ExtendItem.self, CompleteItem.self, FailItem.self, ShowItem.self])
}

struct ClaimItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claim",
        abstract: "Claim the next item of a queue; exits 3 when none is ready.",
        discussion: """
            --format shell prints BOTYARD_ITEM_ID, BOTYARD_ITEM_TOKEN, BOTYARD_ITEM_REFERENCE and \
            BOTYARD_ITEM_PAYLOAD as single-quoted shell assignments, for `eval`.
            """)

    @OptionGroup var connection: Connection
    @Argument(help: "The queue's name.") var queue: String
    @Option(help: "json or shell.") var format = "json"
    @Option(help: "The job claiming it (default: BOTYARD_JOB_ID, set for bots).") var job: Int64?

    func validate() throws {
        guard ["json", "shell"].contains(format) else { throw ValidationError("--format must be json or shell") }
    }

    func run() async throws {
        let jobID = job ?? ProcessInfo.processInfo.environment["BOTYARD_JOB_ID"].flatMap { Int64($0) }
        guard let claimed = try await connection.client.postUnlessEmpty(
            "/v1/queues/\(queue)/claim", ClaimItemRequest(jobID: jobID), as: ClaimedItem.self)
        else { throw ExitCode(3) }
        if format == "shell" {
            print(Self.shellAssignments(claimed))
        } else {
            let encoder = JSONCodec.makeEncoder()
            print(String(decoding: try encoder.encode(claimed), as: UTF8.self))
        }
    }

    /// `NAME='value'` lines whose values are quoted so that `eval` can never run any of them.
    static func shellAssignments(_ claimed: ClaimedItem) -> String {
        func quoted(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return [("BOTYARD_ITEM_ID", String(claimed.item.id)), ("BOTYARD_ITEM_TOKEN", claimed.leaseToken),
                ("BOTYARD_ITEM_REFERENCE", claimed.item.reference ?? ""), ("BOTYARD_ITEM_PAYLOAD", claimed.item.payload.text)]
            .map { "\($0.0)=\(quoted($0.1))" }.joined(separator: "\n")
    }
}

/// Options of the commands that act under a lease.
struct LeaseOptions: ParsableArguments {
    @Argument(help: "The item's id.") var id: Int64
    @Option(help: "The lease token the claim gave.") var token: String
}

struct ExtendItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extend", abstract: "Extend an item's lease.")

    @OptionGroup var connection: Connection
    @OptionGroup var lease: LeaseOptions

    func run() async throws {
        let item = try await connection.client.post("/v1/items/\(lease.id)/extend",
                                                    SettleItemRequest(leaseToken: lease.token), as: WorkItemSnapshot.self)
        let until = item.leaseExpiresAt.map(Timestamp.format) ?? "-"
        try connection.show(item) { print("item \(item.id) held until \(until)") }
    }
}

struct CompleteItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "complete", abstract: "Complete an item.")

    @OptionGroup var connection: Connection
    @OptionGroup var lease: LeaseOptions
    @Option(help: "What the item produced, as JSON (the item's output).") var result: String?

    func run() async throws {
        let request = SettleItemRequest(leaseToken: lease.token,
                                        output: try result.map { try JSONValue(parsing: $0, option: "--result") })
        let item = try await connection.client.post("/v1/items/\(lease.id)/complete", request, as: WorkItemSnapshot.self)
        try connection.show(item) { print("item \(item.id) \(item.state.rawValue)") }
    }
}

struct FailItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fail", abstract: "Fail an item: business (final) or system (retried while retries are left).")

    @OptionGroup var connection: Connection
    @OptionGroup var lease: LeaseOptions
    @Option(help: "business or system.") var kind: FailureKind
    @Option(help: "Why.") var reason: String

    func run() async throws {
        let request = SettleItemRequest(leaseToken: lease.token, failureKind: kind, reason: reason)
        let item = try await connection.client.post("/v1/items/\(lease.id)/fail", request, as: WorkItemSnapshot.self)
        try connection.show(item) { print("item \(item.id) \(item.state.rawValue)") }
    }
}

struct ShowItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an item and its history.")

    @OptionGroup var connection: Connection
    @Argument(help: "The item's id.") var id: Int64

    struct Detail: Codable {
        struct Change: Codable {
            var at: Date
            var from: WorkItemState?
            var to: WorkItemState
            var reason: String
        }

        var item: WorkItemSnapshot
        var history: [Change]
    }

    func run() async throws {
        let detail = try await connection.client.get("/v1/items/\(id)", as: Detail.self)
        try connection.show(detail) { Self.render(detail) }
    }

    static func render(_ detail: Detail) {
        let item = detail.item
        print("item \(item.id) in \(item.queue): \(item.state.rawValue), \(item.priority.rawValue)"
              + (item.reference.map { ", reference \($0)" } ?? "") + ", payload \(item.payload.text)")
        var table = Table(headers: ["AT", "FROM", "TO", "REASON"])
        for change in detail.history {
            table.rows.append([Timestamp.format(change.at), change.from?.rawValue ?? "-", change.to.rawValue,
                               change.reason])
        }
        print(table.rendered)
    }
}
