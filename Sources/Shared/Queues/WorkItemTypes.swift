import Foundation

/// Where a work item stands.
public enum WorkItemState: String, Codable, Sendable, CaseIterable {
    /// Waiting to be claimed (postponed items wait for their time as well).
    case new
    /// Claimed under a lease.
    case inProgress = "in-progress"
    case successful
    /// Ended by a business failure, or by a system failure with no retry left.
    case failed
    /// Its lease ran out with no retry left.
    case abandoned
    /// Failed for a system reason and offered again as a new item (which names this one).
    case retried

    public var isFinal: Bool {
        switch self {
        case .successful, .failed, .abandoned, .retried: true
        case .new, .inProgress: false
        }
    }
}

/// One item to add to a queue.
public struct AddItemRequest: Codable, Sendable, Equatable {
    public var payload: JSONValue
    public var reference: String?
    public var priority: Priority?
    /// The item should be done by then: earlier due dates are claimed first.
    public var dueAt: Date?
    /// Invisible to claims until then.
    public var postponeUntil: Date?

    public init(payload: JSONValue = .object([:]), reference: String? = nil, priority: Priority? = nil,
                dueAt: Date? = nil, postponeUntil: Date? = nil) {
        self.payload = payload
        self.reference = reference
        self.priority = priority
        self.dueAt = dueAt
        self.postponeUntil = postponeUntil
    }

    /// Everything may be left out: an item without a payload carries `{}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            payload: try container.decodeIfPresent(JSONValue.self, forKey: .payload) ?? .object([:]),
            reference: try container.decodeIfPresent(String.self, forKey: .reference),
            priority: try container.decodeIfPresent(Priority.self, forKey: .priority),
            dueAt: try container.decodeIfPresent(Date.self, forKey: .dueAt),
            postponeUntil: try container.decodeIfPresent(Date.self, forKey: .postponeUntil))
    }

    public static let maximumPayloadBytes = 64 * 1024

    /// Problems of this item on its own (a reference already in a unique queue is the store's to find).
    public var problems: [String] {
        var problems: [String] = []
        if let reference, reference.isEmpty || reference.count > 128 || reference.utf8.contains(0) {
            problems.append("reference must have 1-128 characters and no NUL byte")
        }
        let size = payload.text.utf8.count
        if size > Self.maximumPayloadBytes {
            problems.append("payload takes \(size) bytes, more than \(Self.maximumPayloadBytes)")
        }
        return problems
    }
}

/// `POST /v1/queues/{name}/items/bulk`: many items, added all together or not at all.
public struct BulkAddItemsRequest: Codable, Sendable {
    public var items: [AddItemRequest]

    public init(items: [AddItemRequest]) {
        self.items = items
    }

    public static let maximumItems = 10_000
}

/// A work item as the API shows it.
public struct WorkItemSnapshot: Codable, Sendable, Equatable {
    public var id: Int64
    public var queue: String
    public var state: WorkItemState
    public var priority: Priority
    public var reference: String?
    public var payload: JSONValue
    public var output: JSONValue?
    public var dueAt: Date?
    public var postponeUntil: Date?
    /// Retries used so far (0 on the first try).
    public var retryNumber: Int
    /// The item this one retries, if it is a retry.
    public var retryOf: Int64?
    public var failureKind: FailureKind?
    public var reason: String?
    /// While in progress: until when the lease holds, and for which job, if a job claimed it.
    public var leaseExpiresAt: Date?
    public var claimedByJob: Int64?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int64, queue: String, state: WorkItemState, priority: Priority, reference: String?,
                payload: JSONValue, output: JSONValue?, dueAt: Date?, postponeUntil: Date?, retryNumber: Int,
                retryOf: Int64?, failureKind: FailureKind?, reason: String?, leaseExpiresAt: Date?,
                claimedByJob: Int64?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.queue = queue
        self.state = state
        self.priority = priority
        self.reference = reference
        self.payload = payload
        self.output = output
        self.dueAt = dueAt
        self.postponeUntil = postponeUntil
        self.retryNumber = retryNumber
        self.retryOf = retryOf
        self.failureKind = failureKind
        self.reason = reason
        self.leaseExpiresAt = leaseExpiresAt
        self.claimedByJob = claimedByJob
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The answer to a claim: the item and the lease that holds it.
public struct ClaimedItem: Codable, Sendable {
    public var item: WorkItemSnapshot
    /// Fencing token: completing, failing or extending the item needs it; a later claim of the
    /// same item (after this lease expired) gets another one, and this one is refused.
    public var leaseToken: String
    public var leaseExpiresAt: Date

    public init(item: WorkItemSnapshot, leaseToken: String, leaseExpiresAt: Date) {
        self.item = item
        self.leaseToken = leaseToken
        self.leaseExpiresAt = leaseExpiresAt
    }
}

/// `POST /v1/queues/{name}/claim`: who claims (a job, when a bot claims from inside one).
public struct ClaimItemRequest: Codable, Sendable {
    public var jobID: Int64?

    public init(jobID: Int64? = nil) {
        self.jobID = jobID
    }
}

/// `POST /v1/items/{id}/extend|complete|fail`: the lease's token, and what the call says.
public struct SettleItemRequest: Codable, Sendable {
    public var leaseToken: String
    /// `complete`: the item's output.
    public var output: JSONValue?
    /// `fail`: business (final) or system (retried while retries are left).
    public var failureKind: FailureKind?
    /// `fail`: why.
    public var reason: String?

    public init(leaseToken: String, output: JSONValue? = nil, failureKind: FailureKind? = nil, reason: String? = nil) {
        self.leaseToken = leaseToken
        self.output = output
        self.failureKind = failureKind
        self.reason = reason
    }
}

/// Items of a queue by state.
public struct WorkQueueCounts: Codable, Sendable, Equatable {
    public var queue: String
    public var counts: [String: Int]

    public init(queue: String, counts: [String: Int]) {
        self.queue = queue
        self.counts = counts
    }
}
