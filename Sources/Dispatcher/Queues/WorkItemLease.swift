import Foundation
import Shared

/// A work item's claim as pure rules: who may claim it, extend it, settle it, and what a
/// lease that ran out does. The store keeps these fields on the item's row and applies them in
/// one transaction with its history.
///
/// The lease token fences: every claim gets a new one, so a slow bot whose lease expired (and
/// whose item was claimed again) cannot complete or fail what another bot now holds.
struct WorkItemLease: Equatable, Sendable {
    var state: WorkItemState
    /// Retries used so far.
    var retryNumber: Int
    /// The token of the newest claim (kept after it expired, to tell a late caller why).
    var token: String?
    var expiresAt: Date?

    /// Why a call with a lease token was refused; the API answers 409 with the code.
    enum Refusal: Error, Equatable, Sendable {
        /// The token is not the newest claim's: the item was claimed again since.
        case superseded
        /// The lease ran out (the item went back to `new`, or is about to).
        case expired
        /// The item has been settled already.
        case settled(WorkItemState)

        var code: String {
            switch self {
            case .superseded: "lease_superseded"
            case .expired: "lease_expired"
            case .settled: "item_settled"
            }
        }

        var message: String {
            switch self {
            case .superseded: "the item was claimed again since this lease was given; its token no longer counts"
            case .expired: "the lease expired; the item went back to the queue"
            case .settled(let state): "the item is already \(state.rawValue)"
            }
        }
    }

    /// What a failure does to the item.
    enum FailOutcome: Equatable, Sendable {
        /// Final: a business failure, or a system failure with no retry left.
        case failed
        /// The item is `retried`; the store adds its next try as a new item.
        case retried
    }

    /// What an expired lease did.
    enum ExpiryOutcome: Equatable, Sendable {
        /// Back to `new`, its retry counted.
        case backToNew
        /// No retry was left.
        case abandoned
    }

    /// Claims a `new` item for `leaseSeconds`.
    mutating func claim(token: String, at now: Date, leaseSeconds: Int) {
        precondition(state == .new, "only a new item can be claimed")
        state = .inProgress
        self.token = token
        expiresAt = now.addingTimeInterval(TimeInterval(leaseSeconds))
    }

    /// The lease `token` holds the item now, or why not.
    func check(_ token: String, at now: Date) throws(Refusal) {
        if state.isFinal { throw .settled(state) }
        guard token == self.token else { throw .superseded }
        guard state == .inProgress, let expiresAt, now < expiresAt else { throw .expired }
    }

    /// Extends the lease by `leaseSeconds` from now (a bot's heartbeat).
    mutating func extend(_ token: String, at now: Date, leaseSeconds: Int) throws(Refusal) {
        try check(token, at: now)
        expiresAt = now.addingTimeInterval(TimeInterval(leaseSeconds))
    }

    mutating func complete(_ token: String, at now: Date) throws(Refusal) {
        try check(token, at: now)
        state = .successful
        expiresAt = nil
    }

    /// A business failure is final; a system failure is retried while `maxRetries` allows.
    mutating func fail(_ token: String, kind: FailureKind, at now: Date, maxRetries: Int) throws(Refusal)
        -> FailOutcome
    {
        try check(token, at: now)
        expiresAt = nil
        if kind == .system && retryNumber < maxRetries {
            state = .retried
            return .retried
        }
        state = .failed
        return .failed
    }

    /// An item whose lease has run out goes back to `new` (its retry counted), or is abandoned
    /// when no retry is left; nil when the lease still holds.
    mutating func expire(at now: Date, maxRetries: Int) -> ExpiryOutcome? {
        guard state == .inProgress, let expiresAt, expiresAt <= now else { return nil }
        self.expiresAt = nil
        guard retryNumber < maxRetries else {
            state = .abandoned
            return .abandoned
        }
        retryNumber += 1
        state = .new
        return .backToNew
    }
}

/// The order claims take items in: priority (high first), then due date (earliest first, items
/// without one last), then position (oldest first). The store's query says the same in SQL.
enum ClaimOrder {
    struct Key: Equatable, Sendable {
        var priority: Priority
        var dueAt: Date?
        var id: Int64
    }

    static func rank(_ priority: Priority) -> Int { Priority.descending.firstIndex(of: priority)! }

    static func precedes(_ a: Key, _ b: Key) -> Bool {
        if rank(a.priority) != rank(b.priority) { return rank(a.priority) < rank(b.priority) }
        switch (a.dueAt, b.dueAt) {
        case let (x?, y?) where x != y: return x < y
        case (_?, nil): return true
        case (nil, _?): return false
        default: return a.id < b.id
        }
    }

    /// `ORDER BY` of the claim query, on the columns `priorityRank`, `dueAt`, `id`.
    static let sql = "priorityRank, dueAt IS NULL, dueAt, id"
}
