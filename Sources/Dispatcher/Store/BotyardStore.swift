import Foundation
import GRDB
import Shared
import Synchronization

/// The dispatcher's system of record: bots, jobs, their history and logs, and the outbox of
/// messages still to publish. SQLite in WAL mode; one serial writer, concurrent readers.
///
/// Every change of a job's state happens in one transaction with its history row and, where
/// the change sends a message, with its outbox row.
public final class BotyardStore: Sendable {
    let database: DatabasePool
    /// Work queue definitions as last decoded, by name, with the JSON text they came from.
    let decodedQueues = Mutex<[String: (text: String, definition: WorkQueueDefinition)]>([:])
    /// Queue triggers' definitions as last decoded, with their JSON text: a recheck of many triggers, and
    /// claims under a trigger, decode only the changed ones.
    let triggerDefinitions = QueueTriggerDefinitionCache()

    /// How hard a commit waits for the disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// Every commit is synced to disk (`synchronous = FULL`): an accepted job survives a power loss.
        case full
        /// Commits survive a crash of the dispatcher, not of the machine (`synchronous = NORMAL`,
        /// SQLite's usual choice in WAL mode); several times more commits per second.
        case normal
    }

    /// Opens (creating and migrating as needed) the store at `path`.
    public init(path: String, durability: Durability = .full) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "botyard"
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            // Only the writer commits. Not in `prepareDatabase`: the pool turns WAL on after that,
            // and with it sets the writer to NORMAL, which would quietly undo FULL.
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            }
            try StoreMigrations.migrator.migrate(database)
        } catch {
            throw StoreError(operation: "open \(path)", message: Self.describe(error))
        }
    }

    func read<Value>(_ operation: String, _ body: (Database) throws -> Value) throws -> Value {
        do {
            return try database.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(operation: operation, message: Self.describe(error))
        }
    }

    func write<Value>(_ operation: String, _ body: (Database) throws -> Value) throws -> Value {
        do {
            return try database.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(operation: operation, message: Self.describe(error))
        }
    }

    /// A write that waits for the writer (and its commit's sync) without holding a thread of the
    /// cooperative pool, which has one per core: while SQLite syncs a commit, the other requests'
    /// HTTP and JSON work goes on. For the hot request paths (claims); the rest still blocks.
    func write<Value: Sendable>(_ operation: String,
                                _ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        do {
            return try await database.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(operation: operation, message: Self.describe(error))
        }
    }

    /// SQLite's own message, without the statement or its arguments.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "\(error.resultCode): \(error.message ?? "no message")"
        }
        return "\(error)"
    }

    /// Records a state change of `job` with its history row; a job of a pipeline or workflow run
    /// that ends tells its run, whose decisions are carried out in the same transaction, and a
    /// job of a queue trigger its trigger.
    static func transition(_ job: inout JobRecord, to state: JobState, attempt: Int, reason: String, at: Date,
                           in db: Database) throws {
        let from = job.state
        job.state = state
        job.updatedAt = at
        try job.update(db)
        var history = JobHistoryRecord(id: nil, jobID: job.id!, at: at, fromState: from, toState: state,
                                       attempt: attempt, reason: reason)
        try history.insert(db)
        if state.isTerminal && !from.isTerminal {
            if job.flowRun != nil { try flowJobEnded(job, at: at, in: db) }
            if job.triggerQueue != nil { try triggerJobEnded(job, at: at, in: db) }
        }
    }
}
