import Foundation
import GRDB
import Shared

/// A row of `work_queues`.
struct WorkQueueRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "work_queues"

    var name: String
    var definition: WorkQueueDefinition
    var createdAt: Date
    var updatedAt: Date
}

/// A row of `work_items`: an item, its lease and how it ended.
struct WorkItemRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "work_items"

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let queue = Column(CodingKeys.queue)
        static let state = Column(CodingKeys.state)
    }

    var id: Int64?
    var queue: String
    var state: WorkItemState
    var priority: Priority
    var priorityRank: Int
    var reference: String?
    var payload: String
    var output: String?
    var dueAt: Date?
    var postponeUntil: Date?
    var retryNumber: Int
    var retryOf: Int64?
    var failureKind: FailureKind?
    var reason: String?
    var leaseToken: String?
    var leaseExpiresAt: Date?
    var claimedByJob: Int64?
    var createdAt: Date
    var updatedAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The item's lease, as the pure rules see it.
    var lease: WorkItemLease {
        get { WorkItemLease(state: state, retryNumber: retryNumber, token: leaseToken, expiresAt: leaseExpiresAt) }
        set {
            state = newValue.state
            retryNumber = newValue.retryNumber
            leaseToken = newValue.token
            leaseExpiresAt = newValue.expiresAt
        }
    }

    var snapshot: WorkItemSnapshot {
        WorkItemSnapshot(
            id: id!, queue: queue, state: state, priority: priority, reference: reference,
            payload: (try? JSONCodec.decode(JSONValue.self, from: Data(payload.utf8))) ?? .null,
            output: output.flatMap { try? JSONCodec.decode(JSONValue.self, from: Data($0.utf8)) },
            dueAt: dueAt, postponeUntil: postponeUntil, retryNumber: retryNumber, retryOf: retryOf,
            failureKind: failureKind, reason: reason, leaseExpiresAt: state == .inProgress ? leaseExpiresAt : nil,
            claimedByJob: claimedByJob, createdAt: createdAt, updatedAt: updatedAt)
    }
}

extension WorkItemRecord {
    /// A new item of `queue`, as a request asks for it.
    init(queue: String, adding request: AddItemRequest, at now: Date) {
        let priority = request.priority ?? .normal
        self.init(id: nil, queue: queue, state: .new, priority: priority, priorityRank: ClaimOrder.rank(priority),
                  reference: request.reference, payload: request.payload.text, output: nil, dueAt: request.dueAt,
                  postponeUntil: request.postponeUntil, retryNumber: 0, retryOf: nil, failureKind: nil, reason: nil,
                  leaseToken: nil, leaseExpiresAt: nil, claimedByJob: nil, createdAt: now, updatedAt: now)
    }
}

extension WorkItemRecord {
    /// Reads a row by hand, not through `Decodable`: claims and settlements read items inside the
    /// writer's transaction, where GRDB's generic decoding was a tenth of the dispatcher's time.
    init(row: Row) throws {
        func named<Value: RawRepresentable<String>>(_ column: String) throws -> Value? {
            guard let text: String = row[column] else { return nil }
            guard let value = Value(rawValue: text) else {
                throw StoreError(operation: "read work item", message: "\(column) '\(text.prefix(32))' is unknown")
            }
            return value
        }
        guard let state: WorkItemState = try named("state"), let priority: Priority = try named("priority") else {
            throw StoreError(operation: "read work item", message: "state or priority is NULL")
        }
        self.init(
            id: row["id"], queue: row["queue"], state: state, priority: priority, priorityRank: row["priorityRank"],
            reference: row["reference"], payload: row["payload"], output: row["output"], dueAt: row["dueAt"],
            postponeUntil: row["postponeUntil"], retryNumber: row["retryNumber"], retryOf: row["retryOf"],
            failureKind: try named("failureKind"), reason: row["reason"], leaseToken: row["leaseToken"],
            leaseExpiresAt: row["leaseExpiresAt"], claimedByJob: row["claimedByJob"], createdAt: row["createdAt"],
            updatedAt: row["updatedAt"])
    }

    /// Saves what claims, settlements and expiry change (state, lease, outcome) through a statement
    /// compiled once per connection: the claim path saves an item twice, a full `update` encodes
    /// and compiles every column each time.
    func updateLease(in db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE work_items SET state = ?, retryNumber = ?, leaseToken = ?, leaseExpiresAt = ?, claimedByJob = ?,
              output = ?, failureKind = ?, reason = ?, updatedAt = ?
            WHERE id = ?
            """).execute(arguments: [state.rawValue, retryNumber, leaseToken, leaseExpiresAt, claimedByJob, output,
                                     failureKind?.rawValue, reason, updatedAt, id])
    }
}

/// A row of `work_item_history`: one state change of an item.
struct WorkItemHistoryRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "work_item_history"

    var id: Int64?
    var itemID: Int64
    var at: Date
    var fromState: WorkItemState?
    var toState: WorkItemState
    var reason: String

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
