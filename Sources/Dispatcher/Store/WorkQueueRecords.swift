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

    init(queue: String, adding request: AddItemRequest, at now: Date) {
        let priority = request.priority ?? .normal
        self.init(id: nil, queue: queue, state: .new, priority: priority, priorityRank: ClaimOrder.rank(priority),
                  reference: request.reference, payload: request.payload.text, output: nil, dueAt: request.dueAt,
                  postponeUntil: request.postponeUntil, retryNumber: 0, retryOf: nil, failureKind: nil, reason: nil,
                  leaseToken: nil, leaseExpiresAt: nil, claimedByJob: nil, createdAt: now, updatedAt: now)
    }

    init(id: Int64?, queue: String, state: WorkItemState, priority: Priority, priorityRank: Int, reference: String?,
         payload: String, output: String?, dueAt: Date?, postponeUntil: Date?, retryNumber: Int, retryOf: Int64?,
         failureKind: FailureKind?, reason: String?, leaseToken: String?, leaseExpiresAt: Date?,
         claimedByJob: Int64?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.queue = queue
        self.state = state
        self.priority = priority
        self.priorityRank = priorityRank
        self.reference = reference
        self.payload = payload
        self.output = output
        self.dueAt = dueAt
        self.postponeUntil = postponeUntil
        self.retryNumber = retryNumber
        self.retryOf = retryOf
        self.failureKind = failureKind
        self.reason = reason
        self.leaseToken = leaseToken
        self.leaseExpiresAt = leaseExpiresAt
        self.claimedByJob = claimedByJob
        self.createdAt = createdAt
        self.updatedAt = updatedAt
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
