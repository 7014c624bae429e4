import Foundation
import GRDB
import Shared

/// A worker's row written and read column by column, its accounts decoded only when their text
/// changed: the robot queue reads every worker of a group for each launch it checks, and each
/// heartbeat reads its worker's previous row — with 100 accounts a worker, GRDB's `Codable` route
/// decoded thousands of accounts a launch.
extension WorkerRecord {
    /// Each worker's accounts as last written or read, by worker id (ids come and go with the
    /// processes: a bounded number kept).
    static let accountLists = DecodedDefinitions<[AccountStatus]>(limit: 4096)

    init(row: Row) throws {
        workerID = row["workerID"]
        group = row["group"]
        host = row["host"]
        accounts = try Self.accountLists.definition(named: workerID, json: row["accounts"])
        slots = row["slots"]
        running = row["running"]
        intervalSeconds = row["intervalSeconds"]
        stopping = row["stopping"]
        firstSeen = row["firstSeen"]
        lastSeen = row["lastSeen"]
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["workerID"] = workerID
        container["group"] = group
        container["host"] = host
        container["accounts"] = try Self.accountLists.json(of: accounts, named: workerID)
        container["slots"] = slots
        container["running"] = running
        container["intervalSeconds"] = intervalSeconds
        container["stopping"] = stopping
        container["firstSeen"] = firstSeen.storedValue
        container["lastSeen"] = lastSeen.storedValue
    }
}
