import ArgumentParser
import BotyardClient
import Foundation
import Shared

// The CLI accepts these as plain words (`--state in-progress`, `--kind business`).
extension WorkItemState: ExpressibleByArgument {}
extension FailureKind: ExpressibleByArgument {}

struct WorkQueueCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Work queues: define them, add items, list them.",
        subcommands: [SetQueue.self, ListQueues.self, ShowQueue.self, DeleteQueue.self, AddItem.self, AddItems.self,
                      ListItems.self])
}

struct SetQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Create or replace a work queue.")

    @OptionGroup var connection: Connection
    @Argument(help: "The queue's name.") var name: String
    @Option(help: "Retries of an item after a system failure or an expired lease.") var maxRetries = 1
    @Option(help: "Seconds a claim holds an item unless extended.") var leaseSeconds = 300
    @Flag(help: "Refuse a second item with the same reference.") var uniqueReferences = false

    func run() async throws {
        let definition = WorkQueueDefinition(name: name, maxRetries: maxRetries, leaseSeconds: leaseSeconds,
                                             uniqueReferences: uniqueReferences)
        let saved = try await connection.client.put("/v1/queues/\(name)", definition, as: WorkQueueDefinition.self)
        try connection.show(saved) { print("queue \(name) saved") }
    }
}

struct ListQueues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List work queues.")

    @OptionGroup var connection: Connection

    func run() async throws {
        var table = Table(headers: ["QUEUE", "MAX RETRIES", "LEASE", "UNIQUE REFERENCES"])
        let queues = try await connection.client.get("/v1/queues", as: [WorkQueueDefinition].self)
        for queue in queues {
            table.rows.append([queue.name, "\(queue.maxRetries)", "\(queue.leaseSeconds)s",
                               queue.uniqueReferences ? "yes" : "no"])
        }
        try connection.show(queues) { print(table.rendered) }
    }
}

struct ShowQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a queue's items by state.")

    @OptionGroup var connection: Connection
    @Argument(help: "The queue's name.") var name: String

    struct View: Codable {
        var definition: WorkQueueDefinition
        var counts: [String: Int]
    }

    func run() async throws {
        let view = try await connection.client.get("/v1/queues/\(name)", as: View.self)
        var table = Table(headers: WorkItemState.allCases.map { $0.rawValue.uppercased() })
        table.rows.append(WorkItemState.allCases.map { "\(view.counts[$0.rawValue] ?? 0)" })
        try connection.show(view) { print(table.rendered) }
    }
}

struct DeleteQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a queue and its items.")

    @OptionGroup var connection: Connection
    @Argument(help: "The queue's name.") var name: String

    func run() async throws {
        try await connection.client.delete("/v1/queues/\(name)")
        try connection.say("queue \(name) deleted")
    }
}

struct AddItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add one item to a queue.")

    @OptionGroup var connection: Connection
    @Argument(help: "The queue's name.") var name: String
    @Option(help: "The item's payload, as JSON.") var payload = "{}"
    @Option(help: "The item's reference.") var reference: String?
    @Option(help: "high, normal or low.") var priority: Priority = .normal

    func run() async throws {
        let request = AddItemRequest(payload: try JSONValue(parsing: payload, option: "--payload"),
                                     reference: reference, priority: priority)
        let item = try await connection.client.post("/v1/queues/\(name)/items", request, as: WorkItemSnapshot.self)
        try connection.show(item) { print("item \(item.id) \(item.state.rawValue)") }
    }
}

struct AddItems: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-bulk", abstract: "Add many items at once from a JSON file: all of them, or none.")

    @OptionGroup var connection: Connection
    @Argument(help: "The queue's name.") var name: String
    @Option(name: .shortAndLong, help: "A JSON array of items ({\"payload\", \"reference\", \"priority\", ...}); - for standard input.")
    var file: String

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile()
            : try Data(contentsOf: URL(fileURLWithPath: file))
        let items: [AddItemRequest]
        do {
            items = try JSONCodec.decode([AddItemRequest].self, from: data)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        struct Added: Codable { var ids: [Int64] }
        let added = try await connection.client.post("/v1/queues/\(name)/items/bulk", BulkAddItemsRequest(items: items),
                                                     as: Added.self)
        try connection.show(added) { print("\(added.ids.count) items added to \(name)") }
    }
}

struct ListItems: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "items", abstract: "List a queue's items, oldest first.")

    @OptionGroup var connection: Connection
    @Argument(help: "The queue's name.") var name: String
    @Option(help: "Only items in this state.") var state: WorkItemState?
    @Option(help: "At most this many.") var limit = 100

    func run() async throws {
        let query = "limit=\(limit)" + (state.map { "&state=\($0.rawValue)" } ?? "")
        let items = try await connection.client.get("/v1/queues/\(name)/items?\(query)", as: [WorkItemSnapshot].self)
        var table = Table(headers: ["ITEM", "STATE", "PRIORITY", "REFERENCE", "RETRY", "REASON / OUTPUT"])
        for item in items {
            table.rows.append([String(item.id), item.state.rawValue, item.priority.rawValue, item.reference ?? "-",
                               "\(item.retryNumber)", item.reason ?? item.output?.text ?? ""])
        }
        try connection.show(items) { print(table.rendered) }
    }
}

extension JSONValue {
    /// Parses a command-line option's JSON.
    init(parsing text: String, option: String) throws {
        do {
            self = try JSONCodec.decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw ValidationError("\(option) must be JSON: \(error)")
        }
    }
}
