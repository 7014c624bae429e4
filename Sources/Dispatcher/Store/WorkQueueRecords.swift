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
