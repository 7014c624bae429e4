import Foundation
import GRDB
import Shared

extension BotyardStore {
    /// The oldest messages still waiting to be published, after row `cursor`. The first
    /// dispatch of an untargeted job is stored without a body (``enqueueFirstDispatch(of:at:in:)``):
    /// it is built here from the job's row (``FirstDispatchBody``), read in the same statement, on a
    /// reader connection.
    func outbox(after cursor: Int64 = 0, limit: Int) async throws -> [OutboxRecord] {
        try await read("read outbox") { db in try Self.outbox(after: cursor, limit: limit, in: db) }
    }

    /// ``outbox(after:limit:)`` on a connection at hand.
    static func outbox(after cursor: Int64, limit: Int, in db: Database) throws -> [OutboxRecord] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: outboxSQL), arguments: [cursor, limit])
        let jobColumnsStart = OutboxRecord.Columns.allCases.count
        let jobIDColumn = jobColumnsStart + FirstDispatchBody.Columns.id.rawValue
        var records: [OutboxRecord] = []
        while let row = try rows.next() {
            var record = try OutboxRecord(row: row)
            if record.kind == .dispatch && record.body.isEmpty {
                // Jobs are never deleted; were one gone, its message would have nothing to start.
                guard !row.hasNull(atIndex: jobIDColumn) else { continue }
                record.body = try FirstDispatchBody.json(jobRow: row, startingAt: jobColumnsStart)
            }
            records.append(record)
        }
        return records
    }

    /// The outbox's rows after a cursor, oldest first (``OutboxRecord/Columns``), each followed by
    /// its job's ``FirstDispatchBody/Columns`` when its body is to be built from the job's row: one
    /// statement, compiled once per connection, read by position.
    static let outboxSQL = """
        SELECT \(OutboxRecord.selection), \(FirstDispatchBody.selection) FROM outbox
        LEFT JOIN jobs ON jobs.id = outbox.jobID AND outbox.kind = 'dispatch' AND length(outbox.body) = 0
        WHERE outbox.id > ? ORDER BY outbox.id LIMIT ?
        """

    /// Deletes confirmed messages; a confirmed first dispatch moves its job from `pending` to
    /// `queued` (unless a worker already reported it started, whose start recorded the queueing, or
    /// it went back to the robot queue), with its history row. By statements compiled once per
    /// connection: the rows of a batch read in order by their range (``deleteOutboxRows(_:in:)``),
    /// the jobs one by one. Not through an `IN (…)` list, compiled for each batch: at a steady load
    /// the relay's batches are a row or a few, and the list cost more than the deletes (a row: 45 µs
    /// against 17; five rows: 77 against 34; only at two hundred was it cheaper, 2.7 µs a row
    /// against 4.3).
    ///
    /// In the store's next commit, without a commit of its own unless the marks waiting change
    /// enough rows to be worth one (``writeDeferred(_:weight:_:completion:)``, weighing the rows):
    /// a burst's last confirms do not wait for company that is not coming. A crash before it
    /// commits leaves the rows to be published again, which the relay allows for anyway.
    /// `completion` gets nil once committed.
    func markPublishedDeferred(_ records: [OutboxRecord], at now: Date = Date(),
                               completion: @escaping @Sendable (StoreError?) -> Void) {
        guard !records.isEmpty else { return completion(nil) }
        writeDeferred("mark published", weight: records.count,
                      { db in try Self.deletePublished(records, at: now, in: db) }, completion: completion)
    }

    private static func deletePublished(_ records: [OutboxRecord], at now: Date, in db: Database) throws {
        try deleteOutboxRows(records.compactMap(\.id), in: db)
        let dispatched = records.filter { $0.kind == .dispatch }.map(\.jobID)
        guard !dispatched.isEmpty else { return }
        let markQueued = try db.cachedStatement(sql: markQueuedSQL)
        let history = try db.cachedStatement(sql: """
            INSERT INTO job_history (jobID, at, fromState, toState, attempt, reason)
            VALUES (?, ?, 'pending', 'queued', 0, 'confirmed by the broker')
            """)
        let at = now.storedValue
        var queued = 0
        for jobID in dispatched {
            try markQueued.execute(binding: at, jobID)
            guard db.changesCount > 0 else { continue }
            try history.execute(binding: jobID, at)
            queued += 1
        }
        try JobStateCounts.move(queued, from: .pending, to: .queued, in: db)
    }

    /// Deletes the outbox rows `ids`: rows that follow one another (a batch the relay read in order)
    /// with one statement for their range, others one by one.
    static func deleteOutboxRows(_ ids: [Int64], in db: Database) throws {
        if let first = ids.first, let last = ids.last, ids.count > 1,
           zip(ids, ids.dropFirst()).allSatisfy({ $1 == $0 + 1 }) {
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE id BETWEEN ? AND ?").execute(binding: first, last)
            return
        }
        let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?")
        for id in ids { try delete.execute(binding: id) }
    }

    /// Moves a pending job whose first dispatch was confirmed to `queued`, by key.
    ///
    /// One job a statement: a statement that changes several rows of `jobs` keeps a journal of
    /// every page it changes, to undo itself alone, and the relay's batches of up to 200 jobs took
    /// it past what SQLite keeps in memory (``StatementJournalSpill``), into a temporary file.
    static let markQueuedSQL = """
        UPDATE jobs SET state = 'queued', updatedAt = ?
        WHERE id = ? AND state = 'pending'
          AND (account IS NULL OR NOT EXISTS (SELECT 1 FROM robot_queue WHERE robot_queue.jobID = jobs.id))
        """

    /// `?, ?, …`: `count` placeholders for an `IN (…)` list.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// Drops a job's messages of `kinds` that are still waiting to be published.
    static func dropUnpublished(_ kinds: [OutboxRecord.Kind], ofJob jobID: Int64, in db: Database) throws {
        try OutboxRecord.filter(Column("jobID") == jobID && kinds.map(\.rawValue).contains(Column("kind"))).deleteAll(db)
    }

    /// Number of messages waiting to be published.
    public func outboxCount() async throws -> Int {
        try await read("count outbox") { db in try OutboxRecord.fetchCount(db) }
    }

    /// When the oldest message waiting to be published was stored; nil when none waits.
    func oldestOutboxMessage() async throws -> Date? {
        try await read("read the outbox's oldest message") { db in
            try Date.fetchOne(db, sql: "SELECT createdAt FROM outbox ORDER BY id LIMIT 1")
        }
    }
}
