import Foundation
import GRDB
import Shared

/// Filters of `GET /v1/jobs`.
public struct JobFilter: Sendable {
    public var state: JobState?
    public var bot: String?
    public var group: String?
    /// Only the jobs this job's bot started.
    public var parent: Int64?
    public var limit: Int
    /// Skips this many of the newest matching jobs (paging).
    public var offset: Int

    public init(state: JobState? = nil, bot: String? = nil, group: String? = nil, parent: Int64? = nil,
                limit: Int = 100, offset: Int = 0) {
        self.state = state
        self.bot = bot
        self.group = group
        self.parent = parent
        self.limit = limit
        self.offset = offset
    }
}

/// What a requeue of a dead job did.
public enum RequeueResult: Sendable {
    /// A new job, with fresh attempts, took over.
    case requeued(JobSnapshot)
    case notFound
    case notDead(JobState)
    /// Requeued before, as this job.
    case alreadyRequeued(Int64)
}

/// What a submission from inside a job found.
public enum ChildSubmission: Sendable {
    case submitted(JobSnapshot)
    /// The job whose token was used has ended: a finished bot cannot start another.
    case parentEnded(JobState)
}

/// What a cancel request found.
public enum CancelResult: Sendable {
    case cancelled(JobSnapshot)
    case notFound
    case alreadyFinished(JobState)
}

extension BotyardStore {
    /// Stores a new job, `pending`, with its history row and the outbox row that will publish it;
    /// or, when its admission mode (named, else the group's entry for its launch method) finds no
    /// slot, `rejected` with the reason and nothing to publish. A targeted launch (an account
    /// given) is dispatched to its account's queue or waits in the robot queue.
    ///
    /// Concurrent submissions share a transaction (``GroupCommitWriter``); this returns once the
    /// job is durable.
    public func submit(_ request: SubmitJobRequest, bot: BotDefinition,
                       at now: Date = Date()) async throws -> JobSnapshot {
        let job = try Self.newJob(request, bot: bot, parent: nil, at: now)
        return try await write("submit job") { db in try Self.insertSubmitted(job, request: request, in: db) }
    }

    /// Stores a job that the bot of job `parent` submitted (see ``submit(_:bot:at:)``), unless
    /// `parent` has ended by then: checked in the same transaction, so an ending parent never
    /// leaves a child behind.
    public func submit(_ request: SubmitJobRequest, bot: BotDefinition, startedBy parent: Int64,
                       at now: Date = Date()) async throws -> ChildSubmission {
        let job = try Self.newJob(request, bot: bot, parent: parent, at: now)
        return try await write("submit child job") { db in
            let state = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [parent])
                .flatMap(JobState.init(rawValue:))
            if let state, state.isTerminal { return .parentEnded(state) }
            return .submitted(try Self.insertSubmitted(job, request: request, in: db))
        }
    }

    /// Inserts a submitted job, `parent` being the job whose bot submitted it, if one did.
    static func insertSubmitted(_ request: SubmitJobRequest, bot: BotDefinition, parent: Int64?, at now: Date,
                                in db: Database) throws -> JobSnapshot {
        try insertSubmitted(newJob(request, bot: bot, parent: parent, at: now), request: request, in: db)
    }

    /// The new job `request` asks for, its row prepared (``PreparedJob``), not stored yet.
    static func newJob(_ request: SubmitJobRequest, bot: BotDefinition, parent: Int64?,
                       at now: Date) throws -> PreparedJob {
        try PreparedJob(JobRecord(
            id: nil, bot: bot.name, botSnapshot: bot, group: request.group, priority: request.priority ?? .normal,
            environment: request.environment ?? "prod", inputs: request.inputs ?? [:], account: request.account,
            state: .pending, attempts: 0, dispatchedAttempt: 1, runID: nil, retryPolicy: request.retry ?? bot.retry,
            timeoutSeconds: request.timeoutSeconds ?? bot.timeoutSeconds,
            launchMethod: request.launchMethod ?? .api, initiator: request.initiator ?? "api",
            exitCode: nil, outputs: [:], reason: nil, workerID: nil, host: nil, ranAs: nil,
            submittedAt: now, startedAt: nil, finishedAt: nil, updatedAt: now, targetHost: request.host,
            robotQueuePolicy: request.account == nil ? nil : request.robotQueue ?? RobotQueuePolicy(),
            parentJob: parent), at: now)
    }

    /// Inserts a submitted job whose row was prepared, outside the transaction where the caller could.
    static func insertSubmitted(_ prepared: PreparedJob, request: SubmitJobRequest,
                                in db: Database) throws -> JobSnapshot {
        var groups = GroupSettingsReads()
        return try JobStateCounts.counting(in: db) {
            try insertSubmitted(prepared, request: request, groups: &groups, counts: &$0, in: db)
        }
    }

    /// ``insertSubmitted(_:request:in:)`` for one of several jobs of a write (a batch), which read
    /// each group's settings once (`groups`) and count the new jobs in `counts`, saved by the caller
    /// before its transaction ends.
    static func insertSubmitted(_ prepared: PreparedJob, request: SubmitJobRequest, groups: inout GroupSettingsReads,
                                counts: inout JobStateCounts.Tally, in db: Database) throws -> JobSnapshot {
        var job = prepared.record
        let now = prepared.now
        let submitted = "submitted (\(job.launchMethod.rawValue) by \(job.initiator))"
        if request.account != nil {
            job = try Self.insertNew(prepared, reason: submitted, counts: &counts, in: db)
            try Self.placeTargeted(&job, sync: request.admission == .sync, at: now, in: db)
        } else if let rejection = try Self.admissionRejection(of: job.botSnapshot, into: request.group,
                                                              method: job.launchMethod, mode: request.admission,
                                                              at: now, groups: &groups, in: db) {
            try Self.insertRejected(&job, reason: submitted, rejection: rejection, at: now, in: db)
        } else {
            job = try Self.insertPending(prepared, reason: submitted, counts: &counts, in: db)
        }
        return job.snapshot()
    }

    /// Runs a dead job again as a new job with fresh attempts, under its bot's current
    /// definition (the one it died with if the bot was removed). The dead job stays dead and
    /// its history names the new one.
    public func requeueDead(jobID: Int64, initiator: String, at now: Date = Date()) async throws -> RequeueResult {
        try await write("requeue dead job") { db in
            guard var dead = try JobRecord.fetch(id: jobID, in: db) else { return .notFound }
            guard dead.state == .dead else { return .notDead(dead.state) }
            if let earlier = try String.fetchOne(db, sql: "SELECT reason FROM job_history WHERE jobID = ? AND reason LIKE 'requeued as job %' ORDER BY id DESC LIMIT 1", arguments: [jobID]),
               let newID = Int64(earlier.dropFirst("requeued as job ".count)) {
                return .alreadyRequeued(newID)
            }
            let bot = try BotRecord.fetchOne(db, key: dead.bot)?.definition ?? dead.botSnapshot
            var job = dead
            job.id = nil
            job.botSnapshot = bot
            job.state = .pending
            job.attempts = 0
            job.dispatchedAttempt = 1
            job.runID = nil
            job.launchMethod = .manual
            job.initiator = initiator
            // A step's job requeued by hand runs on its own: its run has already judged the step.
            job.flowRun = nil
            job.flowStep = nil
            job.triggerQueue = nil
            // Nor is it a bot's child any more: a person started it.
            job.parentJob = nil
            job.apiToken = JobToken.generate(at: now)
            job.exitCode = nil
            job.outputs = [:]
            job.reason = nil
            job.failureKind = nil
            job.workerID = nil
            job.host = nil
            job.ranAs = nil
            job.submittedAt = now
            job.startedAt = nil
            job.finishedAt = nil
            job.updatedAt = now
            let requeued = "requeued from dead job \(jobID) by \(initiator)"
            if job.account != nil {
                // A targeted launch starts over in the robot queue, on the host it asked for.
                job.dispatchHost = nil
                job.robotQueueTries = 0
                try Self.insertNew(&job, reason: requeued, at: now, in: db)
                try Self.placeTargeted(&job, sync: false, at: now, in: db)
            } else {
                try Self.insertPending(&job, reason: requeued, at: now, in: db)
            }
            try Self.transition(&dead, to: .dead, attempt: dead.attempts, reason: "requeued as job \(job.id!)", at: now, in: db)
            return .requeued(job.snapshot())
        }
    }

    /// A job with its whole history and the jobs its bot started, or nil.
    public func job(id: Int64) async throws -> JobSnapshot? {
        try await read("read job") { db in
            guard let job = try JobRecord.fetch(id: id, in: db) else { return nil }
            let history = try JobHistoryRecord
                .filter(JobHistoryRecord.Columns.jobID == id)
                .order(JobHistoryRecord.Columns.id)
                .fetchAll(db)
            let children = try Int64.fetchAll(db, sql: Self.childrenSQL, arguments: [id])
            return job.snapshot(history: history.map(\.entry), children: children)
        }
    }

    /// The ids of a job's children, oldest first, from the partial index `jobs_parent`.
    static let childrenSQL = "SELECT id FROM jobs WHERE parentJob = ? ORDER BY id"

    /// Jobs matching `filter`, newest first.
    public func jobs(_ filter: JobFilter) async throws -> [JobSnapshot] {
        try await read("list jobs") { db in
            var request = JobRecord.order(JobRecord.Columns.id.desc).limit(filter.limit, offset: filter.offset)
            if let state = filter.state { request = request.filter(JobRecord.Columns.state == state.rawValue) }
            if let bot = filter.bot { request = request.filter(JobRecord.Columns.bot == bot) }
            if let group = filter.group { request = request.filter(JobRecord.Columns.group == group) }
            if let parent = filter.parent { request = request.filter(JobRecord.Columns.parentJob == parent) }
            return try request.fetchAll(db).map { $0.snapshot() }
        }
    }

    /// Counts of jobs by state.
    public func jobCounts() async throws -> [JobState: Int] {
        try await read("count jobs") { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: Self.jobCountsSQL) {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["jobs"] }
            }
            return counts
        }
    }

    /// Counts of jobs by state (``JobStateCounts``; a state with no job left is not listed).
    static let jobCountsSQL = "SELECT state, jobs FROM job_state_counts WHERE jobs > 0"

    /// The log of one attempt (the last one when `attempt` is nil), or nil when none was reported.
    public func log(jobID: Int64, attempt: Int?) async throws -> String? {
        try await read("read log") { db in
            var request = JobLogRecord.filter(Column("jobID") == jobID)
            if let attempt { request = request.filter(Column("attempt") == attempt) }
            return try request.order(Column("attempt").desc).fetchOne(db)?.log
        }
    }

    /// The output of the account's cleanup command after attempt `attempt` (the last one cleaned up after
    /// when nil), or nil when none was reported.
    public func cleanupLog(jobID: Int64, attempt: Int?) async throws -> String? {
        try await read("read cleanup log") { db in
            var request = CleanupLogRecord.filter(Column("jobID") == jobID)
            if let attempt { request = request.filter(Column("attempt") == attempt) }
            return try request.order(Column("attempt").desc).fetchOne(db)?.log
        }
    }

    /// Cancels a job that has not finished: drops its unpublished messages and tells the
    /// workers of its group to stop it or never start it.
    public func cancel(jobID: Int64, reason: String, at now: Date = Date()) async throws -> CancelResult {
        try await write("cancel job") { db in
            guard var job = try JobRecord.fetch(id: jobID, in: db) else { return .notFound }
            guard !job.state.isTerminal else { return .alreadyFinished(job.state) }
            try Self.cancelUnfinished(&job, reason: reason, at: now, in: db)
            return .cancelled(job.snapshot())
        }
    }

    /// Cancels a job that has not finished, in `db`'s transaction (see ``cancel(jobID:reason:at:)``).
    static func cancelUnfinished(_ job: inout JobRecord, reason: String, at now: Date, in db: Database) throws {
        let jobID = job.id!
        try dropUnpublished([.dispatch, .retry], ofJob: jobID, in: db)
        try RobotQueueRecord.deleteOne(db, key: jobID)
        job.finishedAt = now
        job.reason = reason
        try transition(&job, to: .cancelled, attempt: job.attempts, reason: reason, at: now, in: db)
        try accountFreed(by: job, in: db)
        try enqueueControl(.init(command: .cancel, jobID: jobID),
                           routingKey: Topology.controlRoutingKey(group: job.group), at: now, in: db)
    }

    /// Stores a new job with its first history row and the outbox row of its first attempt.
    static func insertPending(_ job: inout JobRecord, reason: String, at now: Date, in db: Database) throws {
        job = try insertPending(PreparedJob(job, at: now), reason: reason, in: db)
    }

    /// ``insertPending(_:reason:at:in:)`` for a prepared row; returns the job with its id.
    static func insertPending(_ prepared: PreparedJob, reason: String, in db: Database) throws -> JobRecord {
        try JobStateCounts.counting(in: db) { try insertPending(prepared, reason: reason, counts: &$0, in: db) }
    }

    /// ``insertPending(_:reason:in:)`` for one of several jobs of a write, counted in `counts`, which
    /// the caller saves before its transaction ends.
    static func insertPending(_ prepared: PreparedJob, reason: String, counts: inout JobStateCounts.Tally,
                              in db: Database) throws -> JobRecord {
        let job = try insertNew(prepared, reason: reason, counts: &counts, in: db)
        if job.account == nil {
            try enqueueFirstDispatch(of: job, at: prepared.at, in: db)
        } else {
            try enqueueDispatch(job.envelope(attempt: 1), jobID: job.id!, at: prepared.now, in: db)
        }
        return job
    }

    /// Stores a new job refused by its admission mode: created `pending`, then `rejected` with
    /// `rejection`, with nothing to publish. Its end is not announced to a run or trigger: the
    /// launcher learns it from `job.state` in the same transaction (a run being driven has not
    /// stored its progress yet).
    static func insertRejected(_ job: inout JobRecord, reason: String, rejection: String, at now: Date,
                               in db: Database) throws {
        try insertNew(&job, reason: reason, at: now, in: db)
        let stored = job.state
        job.state = .rejected
        job.reason = rejection
        job.finishedAt = now
        job.updatedAt = now
        try job.updateRow(from: stored, in: db)
        try insertHistory(jobID: job.id!, at: now.storedValue, from: stored, to: .rejected, attempt: 0,
                          reason: rejection, in: db)
    }

    /// Inserts a new job with its first history row, and sets its id.
    static func insertNew(_ job: inout JobRecord, reason: String, at now: Date, in db: Database) throws {
        job = try insertNew(PreparedJob(job, at: now), reason: reason, in: db)
    }

    /// Inserts a prepared job with its first history row; returns it with its id. The statements
    /// are compiled once per connection and only bind the prepared values.
    static func insertNew(_ prepared: PreparedJob, reason: String, in db: Database) throws -> JobRecord {
        try JobStateCounts.counting(in: db) { try insertNew(prepared, reason: reason, counts: &$0, in: db) }
    }

    /// ``insertNew(_:reason:in:)`` for one of several jobs of a write, counted in `counts`, which the
    /// caller saves before its transaction ends.
    static func insertNew(_ prepared: PreparedJob, reason: String, counts: inout JobStateCounts.Tally,
                          in db: Database) throws -> JobRecord {
        try db.cachedStatement(sql: JobRecord.insertSQL)
            .execute(binding: prepared.values)
        var job = prepared.record
        job.id = db.lastInsertedRowID
        counts.move(from: nil, to: job.state)
        try insertHistory(jobID: job.id!, at: prepared.at, from: nil, to: .pending, attempt: 0, reason: reason, in: db)
        return job
    }

    /// A row of a job's history.
    static func insertHistory(jobID: Int64, at: DatabaseValue, from: JobState?, to: JobState, attempt: Int,
                              reason: String, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO job_history (jobID, at, fromState, toState, attempt, reason) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(binding: jobID, at, from?.rawValue, to.rawValue, attempt, reason)
    }

    /// The outbox row of an untargeted job's first attempt. It carries no copy of the job: that
    /// message is a function of the job's row alone (no credential, no host), which does not
    /// change after the job's creation, so the body is built from the row when the row is read
    /// for the relay (``outbox(after:limit:in:)``): by the outbox feed right after a small commit,
    /// on a reader connection otherwise.
    static func enqueueFirstDispatch(of job: JobRecord, at: DatabaseValue, in db: Database) throws {
        let envelope = job.envelope(attempt: 1)
        try db.cachedStatement(sql: """
            INSERT INTO outbox (jobID, kind, exchange, routingKey, headers, body, messageID, mandatory, createdAt)
            VALUES (?, 'dispatch', ?, ?, '{}', x'', ?, 1, ?)
            """).execute(binding: job.id!, Topology.jobsExchange, envelope.routingKey, envelope.messageID, at)
    }

    /// The outbox row that publishes a job's first attempt.
    static func enqueueDispatch(_ envelope: JobEnvelope, jobID: Int64, at now: Date, in db: Database) throws {
        var outbox = OutboxRecord(
            id: nil, jobID: jobID, kind: .dispatch, exchange: Topology.jobsExchange, routingKey: envelope.routingKey,
            headers: [:], body: try JSONCodec.encode(envelope), messageID: envelope.messageID, mandatory: true,
            createdAt: now)
        try outbox.insert(db)
    }

    static func enqueueControl(_ message: ControlMessage, routingKey: String, at now: Date, in db: Database) throws {
        var outbox = OutboxRecord(
            id: nil, jobID: message.jobID, kind: .control, exchange: Topology.controlExchange, routingKey: routingKey,
            headers: [:], body: try JSONCodec.encode(message),
            messageID: "control-\(message.jobID)-\(UUID.random().uuidString)", mandatory: false, createdAt: now)
        try outbox.insert(db)
    }
}
