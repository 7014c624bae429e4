import Foundation
import GRDB
import Shared

/// A problem of one item of an add request.
public struct ItemProblem: Sendable, Equatable, CustomStringConvertible {
    /// The item's 1-based position in the request.
    public var item: Int
    public var message: String
    /// The item's reference is already used in a queue whose references are unique.
    public var isDuplicateReference: Bool

    public var description: String { "item \(item): \(message)" }
}

/// What adding items did: all were added, or none.
public enum AddItemsResult: Sendable {
    case added([WorkItemSnapshot])
    case noQueue
    case refused([ItemProblem])
}

extension BotyardStore {
    /// Stores a queue's definition: a new one, or (with `replace`) over the one of the same name.
    public func saveQueue(_ definition: WorkQueueDefinition, replace: Bool,
                          at now: Date = Date()) async throws -> DefinitionSaveResult {
        try await write("save work queue") { db in
            let existing = try WorkQueueRecord.fetchOne(db, key: definition.name)
            if existing != nil && !replace { return .exists }
            try WorkQueueRecord(name: definition.name, definition: definition, createdAt: existing?.createdAt ?? now,
                                updatedAt: now).save(db)
            return existing == nil ? .created : .replaced
        }
    }

    public func queue(named name: String) async throws -> WorkQueueDefinition? {
        try await read("read work queue") { db in try WorkQueueRecord.fetchOne(db, key: name)?.definition }
    }

    public func queues() async throws -> [WorkQueueDefinition] {
        try await read("list work queues") { db in
            try WorkQueueRecord.order(Column("name")).fetchAll(db).map(\.definition)
        }
    }

    /// Deletes a queue with all its items. False when there was none.
    public func deleteQueue(named name: String) async throws -> Bool {
        defer { queueDefinitions.forget(name) }
        return try await write("delete work queue") { db in try WorkQueueRecord.deleteOne(db, key: name) }
    }

    /// Adds items to a queue in one transaction: all of them, or — when any is bad — none, with
    /// every bad item named. The queue's trigger evaluates once, in the same transaction.
    public func addItems(_ requests: [AddItemRequest], to queue: String,
                         at now: Date = Date()) async throws -> AddItemsResult {
        try await write("add work items") { db in
            guard let definition = try WorkQueueRecord.fetchOne(db, key: queue)?.definition else { return .noQueue }
            var problems: [ItemProblem] = []
            for (index, request) in requests.enumerated() {
                problems += request.problems.map { ItemProblem(item: index + 1, message: $0, isDuplicateReference: false) }
            }
            if definition.uniqueReferences {
                problems += try Self.duplicateReferences(in: requests, queue: queue, in: db)
            }
            guard problems.isEmpty else { return .refused(problems.sorted { $0.item < $1.item }) }
            var added: [WorkItemSnapshot] = []
            added.reserveCapacity(requests.count)
            for request in requests {
                var item = WorkItemRecord(queue: queue, adding: request, at: now)
                try item.insert(db)
                try Self.recordItemHistory(of: item, from: nil, reason: "added", at: now, in: db)
                added.append(item.snapshot)
            }
            try Self.fireTrigger(ofQueue: queue, .itemsAdded(requests.count), at: now, in: db)
            return .added(added)
        }
    }

    /// References used twice in `requests`, or already used by an item of the queue.
    private static func duplicateReferences(in requests: [AddItemRequest], queue: String,
                                            in db: Database) throws -> [ItemProblem] {
        var problems: [ItemProblem] = []
        var seen: [String: Int] = [:]
        let references = Set(requests.compactMap(\.reference))
        var taken: Set<String> = []
        for chunk in Array(references).chunked(by: 500) {
            taken.formUnion(try String.fetchAll(db, sql: """
                SELECT reference FROM work_items WHERE queue = ? AND reference IN (\(chunk.map { _ in "?" }.joined(separator: ",")))
                """, arguments: StatementArguments([queue] + chunk)))
        }
        for (index, request) in requests.enumerated() {
            guard let reference = request.reference else { continue }
            let label = "'\(reference.prefix(64))'"
            if taken.contains(reference) {
                problems.append(ItemProblem(item: index + 1, message: "reference \(label) is already in queue \(queue)",
                                            isDuplicateReference: true))
            } else if let first = seen[reference] {
                problems.append(ItemProblem(item: index + 1, message: "reference \(label) repeats item \(first)",
                                            isDuplicateReference: true))
            } else {
                seen[reference] = index + 1
            }
        }
        return problems
    }

    /// A queue's items (of one state, when given), oldest first.
    public func items(in queue: String, state: WorkItemState? = nil, limit: Int = 100,
                      offset: Int = 0) async throws -> [WorkItemSnapshot] {
        try await read("list work items") { db in
            var request = WorkItemRecord.filter(WorkItemRecord.Columns.queue == queue)
            if let state { request = request.filter(WorkItemRecord.Columns.state == state.rawValue) }
            return try request.order(WorkItemRecord.Columns.id).limit(limit, offset: offset).fetchAll(db).map(\.snapshot)
        }
    }

    /// How many items of the queue are in each state (every state named, zeros included).
    public func itemCounts(in queue: String) async throws -> WorkQueueCounts {
        try await read("count work items") { db in
            var counts = Dictionary(uniqueKeysWithValues: WorkItemState.allCases.map { ($0.rawValue, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM work_items WHERE queue = ? GROUP BY state",
                                        arguments: [queue]) {
                counts[row["state"]] = row["n"]
            }
            return WorkQueueCounts(queue: queue, counts: counts)
        }
    }

    /// Each queue's backlog: its items waiting (`new`) and being worked (`in-progress`), counted
    /// through the `(queue, state)` index — never the items that have ended, which only grow.
    func workItemCounts() async throws -> [String: [String: Int]] {
        try await read("count work queues' backlog") { db in
            var counts: [String: [String: Int]] = [:]
            for queue in try String.fetchAll(db, sql: "SELECT name FROM work_queues") {
                for state in [WorkItemState.new, .inProgress] {
                    counts[queue, default: [:]][state.rawValue] = try Int.fetchOne(
                        db.cachedStatement(sql: "SELECT COUNT(*) FROM work_items WHERE queue = ? AND state = ?"),
                        arguments: [queue, state.rawValue]) ?? 0
                }
            }
            return counts
        }
    }

    /// The history row of an item's change, through a statement compiled once per connection
    /// (claims and bulk adds write one per item).
    static func recordItemHistory(of item: WorkItemRecord, from: WorkItemState?, reason: String, at now: Date,
                                  in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO work_item_history (itemID, at, fromState, toState, reason) VALUES (?, ?, ?, ?, ?)
            """).execute(arguments: [item.id!, now, from?.rawValue, item.state.rawValue, reason])
    }

    /// A queue's definition. Every claim and settlement reads it: its text is decoded again only
    /// when it differs from the text last decoded, so there is nothing to invalidate.
    func queueDefinition(named name: String, in db: Database) throws -> WorkQueueDefinition? {
        let statement = try db.cachedStatement(sql: "SELECT definition FROM work_queues WHERE name = ?")
        guard let text = try String.fetchOne(statement, arguments: [name]) else { return nil }
        return try queueDefinitions.definition(named: name, json: text)
    }
}

extension Array {
    /// The array in pieces of at most `size` elements.
    fileprivate func chunked(by size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
