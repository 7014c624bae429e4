import Foundation
import GRDB
import Shared

/// What a claim found.
public enum ClaimResult: Sendable {
    case claimed(ClaimedItem)
    /// Nothing to claim now (no new item, or only postponed ones).
    case empty
    case noQueue
}

/// What a bot asks of an item it holds.
public enum ItemSettlement: Sendable {
    case extend
    case complete(output: JSONValue?)
    case fail(FailureKind, reason: String)
}

/// What a settlement did.
public enum SettleResult: Sendable {
    case done(WorkItemSnapshot)
    case notFound
    /// The lease does not hold the item (any more); nothing the caller asked was done.
    case refused(code: String, message: String)
}

/// An item with its history.
public struct WorkItemDetail: Codable, Sendable {
    public struct Change: Codable, Sendable, Equatable {
        public var at: Date
        public var from: WorkItemState?
        public var to: WorkItemState
        public var reason: String
    }

    public var item: WorkItemSnapshot
    public var history: [Change]
}

extension BotyardStore {
    /// Claims the next item of `queue` in claim order (``ClaimOrder``), postponed items left
    /// out, for the lease duration of the queue. Leases of the queue that ran out are expired
    /// first, so their items can be claimed again at once. Under an `exact` trigger, the ready
    /// items its new jobs were started for are kept for them.
    ///
    /// The claim path runs at the rate bots work, through the one writer: its statements are
    /// compiled once per connection, and what needs no transaction (the token, the answer's
    /// JSON) is done outside it.
    public func claimItem(from queue: String, jobID: Int64? = nil, at now: Date = Date()) async throws -> ClaimResult {
        let token = UUID.random().uuidString
        let claimed: WorkItemRecord?? = try await write("claim work item") { db in
            guard let definition = try self.queueDefinition(named: queue, in: db) else { return nil }
            if try !self.expireLeases(of: queue, at: now, in: db).returnedTo.isEmpty {
                try Self.fireTrigger(ofQueue: queue, .itemReturned, at: now, in: db)
            }
            if try self.keptForTriggerJobs(of: queue, claimer: jobID, at: now, in: db) { return .some(nil) }
            guard var item = try WorkItemRecord.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM work_items WHERE queue = ? AND state = 'new'
                  AND (postponeUntil IS NULL OR postponeUntil <= ?)
                ORDER BY \(ClaimOrder.sql) LIMIT 1
                """), arguments: [queue, now])
            else { return .some(nil) }
            item.lease.claim(token: token, at: now, leaseSeconds: definition.leaseSeconds)
            item.claimedByJob = jobID
            item.updatedAt = now
            try item.updateLease(in: db)
            if let jobID {
                try db.cachedStatement(sql: "UPDATE jobs SET firstClaimAt = ? WHERE id = ? AND firstClaimAt IS NULL")
                    .execute(arguments: [now, jobID])
            }
            let by = jobID.map { " by job \($0)" } ?? ""
            try Self.recordItemHistory(of: item, from: .new,
                                       reason: "claimed\(by) until \(Timestamp.format(item.leaseExpiresAt!))",
                                       at: now, in: db)
            return item
        }
        switch claimed {
        case nil: return .noQueue
        case .some(nil): return .empty
        case .some(let item?):
            return .claimed(ClaimedItem(item: item.snapshot, leaseToken: token, leaseExpiresAt: item.leaseExpiresAt!))
        }
    }

    /// The live jobs a queue's trigger started that have not claimed an item yet, through `jobs_trigger_live`.
    static let triggerJobsOnTheirWaySQL = """
        SELECT id FROM jobs WHERE triggerQueue = ? AND \(JobStateCondition.live) AND firstClaimAt IS NULL
        """

    /// Whether the queue's `exact` trigger keeps every ready item for the jobs it started that are
    /// still on their way to their first item, and `claimer` is not one of them.
    private func keptForTriggerJobs(of queue: String, claimer: Int64?, at now: Date, in db: Database) throws -> Bool {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT definition FROM queue_triggers WHERE queue = ?"),
            arguments: [queue]) else { return false }
        // A trigger whose settings cannot be read keeps nothing.
        guard let trigger = try? triggerDefinitions.definition(named: queue, json: row["definition"]),
              trigger.strategy == .exact && trigger.enabled else { return false }
        let onTheirWay = try Int64.fetchAll(db.cachedStatement(sql: Self.triggerJobsOnTheirWaySQL), arguments: [queue])
        if onTheirWay.isEmpty || claimer.map(onTheirWay.contains) == true { return false }
        let ready = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*) FROM work_items
            WHERE queue = ? AND state = 'new' AND (postponeUntil IS NULL OR postponeUntil <= ?)
            """), arguments: [queue, now]) ?? 0
        return !QueueTriggerRule.leavesItem(readyItems: ready, jobsOnTheirWay: onTheirWay.count)
    }

    /// Extends, completes or fails an item under its lease `token`. A token that no longer holds
    /// the item (expired, or superseded by a later claim) is refused and changes nothing; a
    /// lease found expired is expired on the way.
    ///
    /// - Parameter job: the job calling (known by its token), if a bot calls from inside one: an
    ///   item another job claimed is refused (`not_your_item`).
    public func settleItem(_ id: Int64, token: String, _ settlement: ItemSettlement, byJob job: Int64? = nil,
                           at now: Date = Date()) async throws -> SettleResult {
        let outcome: Settled = try await write("settle work item") { db in
            let byID = try db.cachedStatement(sql: "SELECT * FROM work_items WHERE id = ?")
            guard var item = try WorkItemRecord.fetchOne(byID, arguments: [id]),
                  let definition = try self.queueDefinition(named: item.queue, in: db)
            else { return .notFound }
            if let job, let holder = item.claimedByJob, holder != job {
                return .refused(code: "not_your_item", message: "job \(holder) claimed it, not job \(job)")
            }
            if try Self.expire(&item, maxRetries: definition.maxRetries, at: now, in: db) == .backToNew {
                try Self.fireTrigger(ofQueue: item.queue, .itemReturned, at: now, in: db)
            }
            let from = item.state
            var lease = item.lease
            let reason: String
            do throws(WorkItemLease.Refusal) {
                switch settlement {
                case .extend:
                    try lease.extend(token, at: now, leaseSeconds: definition.leaseSeconds)
                    reason = "lease extended until \(Timestamp.format(lease.expiresAt!))"
                case .complete(let output):
                    try lease.complete(token, at: now)
                    item.output = output?.text
                    reason = "completed"
                case .fail(let kind, let why):
                    let outcome = try lease.fail(token, kind: kind, at: now, maxRetries: definition.maxRetries)
                    item.failureKind = kind
                    item.reason = why
                    reason = outcome == .retried
                        ? "\(kind.rawValue) failure: \(why); retry \(item.retryNumber + 1) of \(definition.maxRetries) follows"
                        : "\(kind.rawValue) failure: \(why)"
                }
            } catch {
                return .refused(code: error.code, message: error.message)
            }
            item.lease = lease
            item.updatedAt = now
            try item.updateLease(in: db)
            try Self.recordItemHistory(of: item, from: from, reason: reason, at: now, in: db)
            if item.state == .retried {
                try Self.addRetry(of: item, at: now, in: db)
                try Self.fireTrigger(ofQueue: item.queue, .itemReturned, at: now, in: db)
            }
            return .done(item)
        }
        switch outcome {
        case .done(let item): return .done(item.snapshot)
        case .notFound: return .notFound
        case .refused(let code, let message): return .refused(code: code, message: message)
        }
    }

    /// What a settlement's transaction did; its answer (the item's JSON) is made after it.
    private enum Settled: Sendable {
        case done(WorkItemRecord)
        case notFound
        case refused(code: String, message: String)
    }

    /// Expires every lease that has run out; returns how many, and when the next one runs out.
    /// The triggers of queues that got items back evaluate (`exact` ones), in the same transaction.
    public func expireLeases(at now: Date = Date()) async throws -> (expired: Int, next: Date?) {
        let next = "SELECT MIN(leaseExpiresAt) FROM work_items WHERE state = 'in-progress'"
        // Nearly every pass finds nothing: one read, without holding up the writers, says so.
        let earliest = try await read("look at leases") { db in try Date.fetchOne(db.cachedStatement(sql: next)) }
        guard let earliest, earliest <= now else { return (0, earliest) }
        return try await write("expire leases") { db in
            let expired = try self.expireLeases(of: nil, at: now, in: db)
            for queue in expired.returnedTo.sorted() {
                try Self.fireTrigger(ofQueue: queue, .itemReturned, at: now, in: db)
            }
            return (expired.count, try Date.fetchOne(db.cachedStatement(sql: next)))
        }
    }

    /// An item with its history, or nil.
    public func item(id: Int64) async throws -> WorkItemDetail? {
        try await read("read work item") { db in
            guard let item = try WorkItemRecord.fetchOne(db, key: id) else { return nil }
            let history = try WorkItemHistoryRecord.filter(Column("itemID") == id).order(Column("id")).fetchAll(db)
            return WorkItemDetail(item: item.snapshot, history: history.map {
                WorkItemDetail.Change(at: $0.at, from: $0.fromState, to: $0.toState, reason: $0.reason)
            })
        }
    }

    /// Expires the run-out leases of one queue (every queue when nil); returns how many, and the
    /// queues that got items back (whose triggers the caller tells).
    @discardableResult
    private func expireLeases(of queue: String?, at now: Date,
                              in db: Database) throws -> (count: Int, returnedTo: Set<String>) {
        let expired = "SELECT * FROM work_items WHERE state = 'in-progress' AND leaseExpiresAt <= ?"
        let items = if let queue {
            try WorkItemRecord.fetchAll(db.cachedStatement(sql: expired + " AND queue = ?"), arguments: [now, queue])
        } else {
            try WorkItemRecord.fetchAll(db.cachedStatement(sql: expired), arguments: [now])
        }
        var definitions: [String: WorkQueueDefinition] = [:]
        var returnedTo: Set<String> = []
        for var item in items {
            if definitions[item.queue] == nil {
                definitions[item.queue] = try queueDefinition(named: item.queue, in: db)
            }
            if try Self.expire(&item, maxRetries: definitions[item.queue]?.maxRetries ?? 0, at: now, in: db) == .backToNew {
                returnedTo.insert(item.queue)
            }
        }
        return (items.count, returnedTo)
    }

    /// Puts an item whose lease ran out back to `new` (retry counted), or abandons it; nil when
    /// its lease holds.
    @discardableResult
    private static func expire(_ item: inout WorkItemRecord, maxRetries: Int, at now: Date,
                               in db: Database) throws -> WorkItemLease.ExpiryOutcome? {
        var lease = item.lease
        guard let outcome = lease.expire(at: now, maxRetries: maxRetries) else { return nil }
        item.lease = lease
        item.claimedByJob = nil
        item.updatedAt = now
        try item.updateLease(in: db)
        let reason = switch outcome {
        case .backToNew: "lease expired; back in the queue (retry \(item.retryNumber) of \(maxRetries))"
        case .abandoned: "lease expired with no retry left (\(maxRetries) used)"
        }
        try recordItemHistory(of: item, from: .inProgress, reason: reason, at: now, in: db)
        return outcome
    }

    /// The next try of an item that failed for a system reason: a new item at the queue's end.
    private static func addRetry(of item: WorkItemRecord, at now: Date, in db: Database) throws {
        var retry = WorkItemRecord(
            id: nil, queue: item.queue, state: .new, priority: item.priority, priorityRank: item.priorityRank,
            reference: item.reference, payload: item.payload, output: nil, dueAt: item.dueAt,
            postponeUntil: item.postponeUntil, retryNumber: item.retryNumber + 1, retryOf: item.id, failureKind: nil,
            reason: nil, leaseToken: nil, leaseExpiresAt: nil, claimedByJob: nil, createdAt: now, updatedAt: now)
        try retry.insert(db)
        try recordItemHistory(of: retry, from: nil, reason: "retry \(retry.retryNumber) of item \(item.id!)", at: now, in: db)
    }
}
