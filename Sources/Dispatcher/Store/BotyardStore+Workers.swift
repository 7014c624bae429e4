import Foundation
import GRDB
import Shared

/// A row of `workers`: the last heartbeat of each worker ever seen.
struct WorkerRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "workers"

    var workerID: String
    var group: String
    var host: String
    var accounts: [AccountStatus]
    var slots: Int
    var running: Int
    var intervalSeconds: Double
    var stopping: Bool
    var firstSeen: Date
    var lastSeen: Date

    /// A worker's row by id, compiled once per connection: every heartbeat reads it.
    static let byIDSQL = "SELECT * FROM workers WHERE workerID = ?"

    /// Lost after three missed heartbeats.
    func status(at now: Date) -> WorkerStatus {
        let silent = now.timeIntervalSince(lastSeen) > 3 * intervalSeconds
        let state: WorkerStatus.State = silent ? .lost : (stopping ? .stopping : .active)
        return WorkerStatus(workerID: workerID, group: group, host: host, accounts: accounts, slots: slots,
                            running: running, state: state, firstSeen: firstSeen, lastSeen: lastSeen)
    }
}

extension BotyardStore {
    /// Accounts a worker of `group` on `host` began to serve: a robot-queue event.
    struct AccountsCameUp: Equatable {
        var group: String
        var host: String
        var accounts: Set<String>
    }

    /// Records heartbeats (the dispatcher's clock stamps them, so that worker clocks do not matter).
    ///
    /// - Returns: the accounts a worker began to serve: all it serves when it is new or back from
    ///   lost, else those it took over since its last heartbeat.
    @discardableResult
    func record(_ heartbeats: [WorkerHeartbeat], at now: Date = Date(), in db: Database) throws -> [AccountsCameUp] {
        var cameUp: [AccountsCameUp] = []
        for heartbeat in heartbeats {
            let previous = try WorkerRecord.fetchOne(db.cachedStatement(sql: WorkerRecord.byIDSQL),
                                                     arguments: [heartbeat.workerID])
            let firstSeen = previous?.firstSeen ?? now
            let wasActive = previous?.status(at: now).state == .active
            // An account takes launches when served and not held: a hold cleared is an account coming up too.
            let takesJobs: (AccountStatus) -> Bool = { $0.served && $0.hold == nil }
            let servedBefore = wasActive ? Set(previous?.accounts.filter(takesJobs).map(\.name) ?? []) : []
            let newlyServed = Set(heartbeat.accounts.filter(takesJobs).map(\.name)).subtracting(servedBefore)
            if !heartbeat.stopping && !newlyServed.isEmpty {
                cameUp.append(AccountsCameUp(group: heartbeat.group, host: heartbeat.host, accounts: newlyServed))
            }
            try WorkerRecord(
                workerID: heartbeat.workerID, group: heartbeat.group, host: heartbeat.host,
                accounts: heartbeat.accounts, slots: heartbeat.slots, running: heartbeat.running,
                intervalSeconds: heartbeat.intervalSeconds, stopping: heartbeat.stopping, firstSeen: firstSeen,
                lastSeen: now
            ).save(db)
        }
        return cameUp
    }

    /// What a request to clear an account's hold found.
    public enum ClearHoldResult: Sendable, Equatable {
        /// The workers told to clear it.
        case cleared(workers: [String])
        /// No active worker of the host serves the account.
        case notServed
        /// The account is served and not held (by the workers' last heartbeats).
        case notHeld
    }

    /// Tells the active workers of `host` that hold `account` (a failed cleanup) to clear the hold, through
    /// `botyard.control`; the workers' next heartbeats show it cleared.
    public func clearHold(host: String, account: String, at now: Date = Date()) async throws -> ClearHoldResult {
        try await write("clear account hold") { db in
            let listing = try WorkerRecord.filter(Column("host") == host).fetchAll(db)
                .filter { $0.status(at: now).state == .active }
                .filter { worker in worker.accounts.contains { $0.name == account } }
            guard !listing.isEmpty else { return .notServed }
            let holding = listing.filter { worker in worker.accounts.contains { $0.name == account && $0.hold != nil } }
            guard !holding.isEmpty else { return .notHeld }
            for worker in holding {
                try Self.enqueueControl(.init(command: .clearHold, jobID: 0, account: account),
                                        routingKey: Topology.controlRoutingKey(workerID: worker.workerID), at: now,
                                        in: db)
            }
            return .cleared(workers: holding.map(\.workerID).sorted())
        }
    }

    /// Every worker seen, by group and id, with its state now.
    public func workers(at now: Date = Date()) async throws -> [WorkerStatus] {
        try await read("list workers") { db in
            try WorkerRecord.order(Column("group"), Column("workerID")).fetchAll(db).map { $0.status(at: now) }
        }
    }
}
