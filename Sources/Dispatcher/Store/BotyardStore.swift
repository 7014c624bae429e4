import Dispatch
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
    /// Every write of the store, coalesced into shared transactions.
    let groupCommit: GroupCommitWriter
    /// Work queues as last decoded: claims and settlements decode only changed ones.
    let queueDefinitions = DecodedDefinitions<WorkQueueDefinition>()
    /// Queue triggers as last decoded: a recheck of many triggers, and claims under a trigger,
    /// decode only the changed ones.
    let triggerDefinitions = DecodedDefinitions<QueueTriggerDefinition>()
    /// Bots' definitions between their changes: a submission reads none.
    let botCache = BotCache()
    /// The outbox rows of each commit, for the relay.
    let outboxFeed = OutboxFeed()
    /// Seals the passwords of `credentials` (derived from the dispatcher's secrets key); nil
    /// without one, and then no credential can be stored.
    let credentialsKey: SecretKey?

    /// How hard a commit waits for the disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// Every commit is synced to disk (`synchronous = FULL`): an accepted job survives a power loss.
        case full
        /// Commits survive a crash of the dispatcher, not of the machine (`synchronous = NORMAL`,
        /// SQLite's usual choice in WAL mode); several times more commits per second.
        case normal
    }

    /// Each connection's page cache, in KiB.
    static let cacheKiB = 16_384
    /// How much of the database file each connection reads through a memory mapping.
    static let mappedBytes = 1 << 30

    /// Opens (creating and migrating as needed) the store at `path`, on a thread of its own: a
    /// migration may rewrite a large store, and opening waits for other processes' writers to let
    /// it in. Neither holds a thread of the cooperative pool (``StoreThreadTests``).
    ///
    /// - Parameters:
    ///   - secretsKey: the dispatcher's secrets key; the store seals credentials with a key derived from it.
    ///   - deferredWritesWait: how long a write nobody waits for (an audit entry, the deletion of
    ///     published outbox rows, reports that runs started) waits to join another transaction before
    ///     it commits alone. Long enough for a steady fleet's next submission or end to come by: at
    ///     one job a minute per robot, each such write committing alone was a sync of the disk per
    ///     job. The API's reads commit them first (``commitDeferredWritesIfAny()``).
    public static func open(path: String, durability: Durability = .full, secretsKey: SecretKey? = nil,
                            deferredWritesWait: Duration = .milliseconds(250)) async throws -> BotyardStore {
        try await withCheckedThrowingContinuation { continuation in
            // A serial queue gets a thread of its own. Concurrent queues and the global queue run
            // on the cooperative pool's threads (as many as the machine has processors), which
            // openings waiting for another process's writer would hold.
            DispatchQueue(label: "botyard.store.open").async {
                continuation.resume(with: Result {
                    try BotyardStore(path: path, durability: durability, secretsKey: secretsKey,
                                     deferredWritesWait: deferredWritesWait)
                })
            }
        }
    }

    private init(path: String, durability: Durability, secretsKey: SecretKey?, deferredWritesWait: Duration) throws {
        credentialsKey = secretsKey?.derived(for: .credentialsAtRest)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "botyard"
        // The group commit writer keeps a transaction open for company between two of its accesses
        // to the writer's connection (readers are never let: the pool forbids it to them).
        configuration.allowsUnsafeTransactions = true
        configuration.prepareDatabase { db in
            // `temp_store` stays SQLite's default: a statement journal is kept in memory up to
            // 64 KiB and spills to a file beyond. Kept in memory whatever its size (`MEMORY`), the
            // journal of a large savepoint (batches of 1,000 jobs sharing a transaction) is a list
            // of 1 KiB chunks that SQLite walks from its head at the end of every statement (44 %
            // of the dispatcher's CPU in a profile of batch submissions).
            // The indexes' upper levels of a store of millions of jobs stay in each connection's
            // cache (SQLite's default is 2 MiB), and pages it misses are read through a mapping of
            // the file instead of a system call each.
            try db.execute(sql: "PRAGMA cache_size = -\(Self.cacheKiB)")
            try db.execute(sql: "PRAGMA mmap_size = \(Self.mappedBytes)")
        }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            // Only the writer commits. Not in `prepareDatabase`: the pool turns WAL on after that,
            // and with it sets the writer to NORMAL, which would quietly undo FULL.
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            }
            try Self.migrate(database, with: StoreMigrations.migrator(credentialsKey: credentialsKey))
            try database.write(JobStateCounts.seed)
            database.add(transactionObserver: outboxFeed, extent: .databaseLifetime)
            groupCommit = GroupCommitWriter(database: database, deferredWait: deferredWritesWait)
        } catch {
            throw StoreError(operation: "open \(path)", message: Self.describe(error))
        }
    }

    /// Brings the schema up to date. Another process may be migrating the same store at the same
    /// moment (dispatchers upgraded and started together): GRDB reads which migrations are applied
    /// before it waits for the writer, so the second one in finds a migration done under its feet
    /// ("table … already exists"). Then it reads again and goes on from there; a failure that
    /// nobody else's progress explains is its own.
    private static func migrate(_ database: DatabasePool, with migrator: DatabaseMigrator) throws {
        var applied = try database.read(migrator.appliedIdentifiers)
        while true {
            do {
                return try migrator.migrate(database)
            } catch {
                guard let appliedNow = try? database.read(migrator.appliedIdentifiers), appliedNow != applied
                else { throw error }
                applied = appliedNow
            }
        }
    }

    /// A read on one of the pool's reader connections that holds no thread of the cooperative pool.
    ///
    /// It waits for a connection on GRDB's serial waiting queue and runs on the connection's own
    /// serial queue, each a thread of its own. Not on a concurrent dispatch queue: on Linux those
    /// run on the threads of the cooperative pool itself (its tasks of default priority), so a
    /// long read held one of the two (``StoreThreadTests``). Not GRDB's async `read` either: that
    /// gives the connection back only once its task runs again on the pool, and when every thread
    /// of the pool blocked waiting for a connection, no task ran again (``StoreReadTests``).
    func read<Value: Sendable>(_ operation: String,
                               _ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        try await Self.naming(operation) {
            try await withCheckedThrowingContinuation { continuation in
                database.asyncRead { db in continuation.resume(with: Result { try body(db.get()) }) }
            }
        }
    }

    /// A write that shares its transaction, and its commit's sync, with the others waiting at the
    /// same moment (``GroupCommitWriter``), without holding a thread of the cooperative pool: while
    /// SQLite syncs a commit, the other requests' HTTP and JSON work goes on. Every write of the
    /// store goes this way (``StoreThreadTests``): on two cores the pool has two threads, and a
    /// write that waited for the writer on one of them held up half of the dispatcher.
    func write<Value: Sendable>(_ operation: String,
                                _ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        try await Self.naming(operation) { try await groupCommit.write(body) }
    }

    /// A write that need not be waited for: it rides in the next shared transaction, or commits on
    /// its own after a short wait, or without that wait once the deferred writes waiting change
    /// enough rows together (``GroupCommitWriter/writeDeferred(_:weight:completion:)``; `weight`:
    /// the rows this one changes). `completion` gets nil once it committed, else why not.
    func writeDeferred(_ operation: String, weight: Int = 1,
                       _ body: @escaping @Sendable (Database) throws -> Void,
                       completion: @escaping @Sendable (StoreError?) -> Void) {
        groupCommit.writeDeferred(body, weight: weight) { failure in
            completion(failure.map { Self.storeError(operation, $0) })
        }
    }

    /// Returns once every deferred write asked for before has committed or failed.
    public func commitDeferredWrites() async {
        await groupCommit.commitDeferred()
    }

    /// ``commitDeferredWrites()`` when a deferred write is pending, else at once (no transaction):
    /// before a read that must show everything the dispatcher has learnt.
    public func commitDeferredWritesIfAny() async {
        await groupCommit.commitDeferredIfAny()
    }

    /// Runs `body`; a failure other than a ``StoreError`` becomes one naming `operation`.
    private static func naming<Value>(_ operation: String, _ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch {
            throw storeError(operation, error)
        }
    }

    /// `error` as a ``StoreError``: one that is not already becomes one naming `operation`.
    static func storeError(_ operation: String, _ error: any Error) -> StoreError {
        error as? StoreError ?? StoreError(operation: operation, message: describe(error))
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
        try job.updateRow(from: from, in: db)
        try insertHistory(jobID: job.id!, at: at.storedValue, from: from, to: state, attempt: attempt, reason: reason,
                          in: db)
        if state.isTerminal && !from.isTerminal { try ended(job, at: at, in: db) }
    }

    /// A job has just ended: its flow run takes its next step, its queue trigger evaluates.
    static func ended(_ job: JobRecord, at now: Date, in db: Database) throws {
        if job.flowRun != nil { try flowJobEnded(job, at: now, in: db) }
        if job.triggerQueue != nil { try triggerJobEnded(job, at: now, in: db) }
    }
}

extension BotyardStore {
    /// Caps the database at its current size (SQLite's `max_page_count` on the writer's
    /// connection), so that a write needing another page fails as on a full disk; `false` lifts
    /// the cap. For tests of what a full disk does.
    func simulateFullDisk(_ full: Bool) async throws {
        try await database.writeWithoutTransaction { db in
            // A cap below the file's size is raised to it by SQLite.
            try db.execute(sql: "PRAGMA max_page_count = \(full ? 1 : 1_073_741_823)")
        }
    }

    /// Makes every write fail (SQLite's `query_only` on the writer's connection), as a store that
    /// has gone read-only would; `false` lets writes through again. For tests of a broken store:
    /// unlike a full disk, not even a change that fits in the pages there are gets through.
    func simulateReadOnlyStore(_ readOnly: Bool) async throws {
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA query_only = \(readOnly ? 1 : 0)")
        }
    }
}
