import Foundation
import GRDB
import Shared

/// What applying a worker's event did.
enum EventApplication: Equatable, Sendable {
    /// The job moved to this state; `publishes` says whether outbox rows were added.
    case applied(JobState, publishes: Bool)
    /// This event was applied before (the broker delivered it again).
    case duplicate
    /// The event changes nothing, for the reason given.
    case ignored(String)
}

extension BotyardStore {
    /// Applies a worker's report, once: the state change, its history, the log, and the retry,
    /// dead-letter or control message it calls for, all in one transaction.
    ///
    /// - Parameter random: places the retry backoff's jitter.
    func apply(_ event: JobEvent, random: Double, at now: Date = Date()) async throws -> EventApplication {
        try await apply([event], random: { random }, at: now)[0]
    }

    /// Applies reports in order, and records heartbeats, in one transaction (one disk sync for the lot).
    func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat] = [], random: () -> Double,
               at now: Date = Date()) async throws -> [EventApplication] {
        try await apply(events, heartbeats: heartbeats, randoms: events.map { _ in random() }, at: now).results
    }

    /// How a batch of reports that the event consumer applies commits.
    enum ReportCommit: Sendable {
        /// In the next shared transaction, at once.
        case atOnce
        /// Riding in the next transaction, or in one of its own after the store's wait for
        /// deferred writes (``writeDeferred(_:weight:_:completion:)``): nothing waits for the batch.
        case riding
        /// Applied at once and committed at once when it gave the relay or the robot queue work
        /// (a retry, a parked job, a flow's next job, a freed account); riding otherwise.
        case ridingUnlessWorkFollows
    }

    /// ``apply(_:heartbeats:random:at:)`` for the event consumer: queued before this returns (so
    /// that batches asked for in order are applied in order), its transaction shared with the
    /// other writes of the same moment as `commit` says. `completion` gets what the reports did
    /// once it committed, on the store's writer: it must be quick.
    func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat], commit: ReportCommit, at now: Date = Date(),
               completion: @escaping @Sendable (Result<AppliedEvents, StoreError>) -> Void) {
        let randoms = events.map { _ in Double.random(in: 0..<1) }
        let body: @Sendable (Database) throws -> AppliedEvents = { db in
            try self.apply(events, heartbeats: heartbeats, randoms: randoms, at: now, in: db)
        }
        let finish: @Sendable (Result<AppliedEvents, any Error>) -> Void = { result in
            completion(result.mapError { Self.storeError("apply events", $0) })
        }
        switch commit {
        case .atOnce:
            groupCommit.write(body, completion: finish)
        case .riding:
            groupCommit.writeDeferred(body, result: finish)
        case .ridingUnlessWorkFollows:
            groupCommit.writeDeferrable(body, commitsAtOnce: { $0.addedMessages || $0.madeLaunchesDue },
                                        completion: finish)
        }
    }

    private func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat], randoms: [Double],
                       at now: Date) async throws -> AppliedEvents {
        try await write("apply events") { db in
            try self.apply(events, heartbeats: heartbeats, randoms: randoms, at: now, in: db)
        }
    }

    /// What a batch of reports did, and which of the dispatcher's services it gives work.
    struct AppliedEvents: Sendable {
        var results: [EventApplication]
        /// Messages were added to the outbox (a retry, a parked job, an order to a worker, a flow's next job).
        var addedMessages: Bool
        /// Launches waiting in the robot queue were made due (an account freed or come up).
        var madeLaunchesDue: Bool
        /// What the metrics learn from the reports applied: ends, waits and run times.
        var figures: [ReportFigures] = []
    }

    /// What one applied report tells the metrics about its job.
    struct ReportFigures: Sendable, Equatable {
        var group: String
        var bot: String
        /// The state the job ended in, when this report ended it.
        var ended: JobState?
        /// From submission to the first attempt's start.
        var waited: Duration?
        /// One attempt's run, as its worker measured it.
        var ran: Duration?
    }

    private func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat], randoms: [Double], at now: Date,
                       in db: Database) throws -> AppliedEvents {
        let before = try Self.serviceWork(in: db)
        // Accounts that came up can take launches.
        for cameUp in try record(heartbeats, at: now, in: db) {
            try Self.markRobotQueueDue(group: cameUp.group, host: cameUp.host, accounts: cameUp.accounts, in: db)
        }
        var figures: [ReportFigures] = []
        let results = try zip(events, randoms).map { event, random in
            try apply(event, random: random, at: now, in: db) { figures.append($0) }
        }
        let after = try Self.serviceWork(in: db)
        return AppliedEvents(results: results, addedMessages: after.lastMessage > before.lastMessage,
                             madeLaunchesDue: after.dueLaunches > before.dueLaunches, figures: figures)
    }

    /// The newest outbox row and the launches due in the robot queue, both read through an index:
    /// compared before and after a batch, they tell whether the relay or the robot queue has work.
    /// One statement, read by position (``ColumnValues``): a `Row` of the two (a dictionary of its
    /// columns' names, a copy) cost several times the reads, GRDB's typed `fetchOne` a look-up of its
    /// generic cursor's metadata for each, and a statement each its own step and reset: 3 % of the
    /// steady fleet's dispatcher, each of those ways.
    private static func serviceWork(in db: Database) throws -> (lastMessage: Int64, dueLaunches: Int) {
        let work = try db.cachedStatement(sql: serviceWorkSQL).fetchFirst(binding: []) { columns in
            let newest: Int64? = try columns.nextOptional("the outbox's newest row") // NULL: an empty outbox
            let due: Int = try columns.next("launches due")
            return (lastMessage: newest ?? 0, dueLaunches: due)
        }
        return work ?? (0, 0)
    }

    static let serviceWorkSQL = "SELECT (SELECT MAX(id) FROM outbox), (SELECT COUNT(*) FROM robot_queue WHERE due = 1)"

    private func apply(_ event: JobEvent, random: Double, at now: Date, in db: Database,
                       measured: (ReportFigures) -> Void = { _ in }) throws -> EventApplication {
        // Once only: an event id already recorded inserts nothing.
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO applied_events (eventID, appliedAt, jobID) VALUES (?, ?, ?)")
            .execute(binding: event.eventID, now.storedValue, event.jobID)
        if db.changesCount == 0 { return .duplicate }
        guard let job = try JobRecord.fetch(id: event.jobID, in: db) else {
            return .ignored("unknown job \(event.jobID)")
        }
        let decision = JobLifecycle.apply(event, to: job, random: random, at: now)
        let stored = try Self.record(decision, from: job.state, at: now, in: db)
        if decision.ignored == nil,
           let figures = Self.figures(of: event, decision: decision, from: job.state, job: stored) {
            measured(figures)
        }
        // A launch the robot queue gave up on is parked there, its message with it.
        let parkedByRobotQueue = stored.state == .dead && job.state != .dead
        return decision.ignored.map(EventApplication.ignored)
            ?? .applied(stored.state, publishes: decision.publishesJob || parkedByRobotQueue)
    }

    /// What an applied report tells the metrics: a first start its wait since submission (a
    /// finish too, when it counted the start), a finish its attempt's run time, and the job's end if
    /// it moved the job from `before` to one.
    private static func figures(of event: JobEvent, decision: JobLifecycle.Decision, from before: JobState,
                                job: JobRecord) -> ReportFigures? {
        var figures = ReportFigures(group: job.group, bot: job.bot)
        if job.state.isTerminal && !before.isTerminal { figures.ended = job.state }
        if event.kind == .finished { figures.ran = event.outcome.map { .milliseconds($0.durationMilliseconds) } }
        if event.attempt == 1, let startedAt = job.startedAt, decision.history.contains(where: \.startsRun) {
            figures.waited = .milliseconds(max(0, (startedAt.timeIntervalSince(job.submittedAt) * 1000).rounded()))
        }
        return figures.ended == nil && figures.waited == nil && figures.ran == nil ? nil : figures
    }

    /// Records that the broker, or a worker, parked a job's message in `botyard.dead` on its own
    /// (delivery limit reached, message unusable): the job is dead unless it already ended.
    func markParked(jobID: Int64, attempt: Int, reason: String,
                    at now: Date = Date()) async throws -> EventApplication {
        try await write("mark parked") { db in
            guard let job = try JobRecord.fetch(id: jobID, in: db) else { return .ignored("unknown job \(jobID)") }
            let decision = JobLifecycle.parked(job, attempt: attempt, reason: reason, at: now)
            let stored = try Self.record(decision, from: job.state, at: now, in: db)
            return decision.ignored.map(EventApplication.ignored) ?? .applied(stored.state, publishes: false)
        }
    }

    /// Makes the job dead and parks its message in `botyard.dead` with the reason.
    static func park(_ job: inout JobRecord, reason: String, at now: Date, in db: Database) throws {
        var decision = JobLifecycle.Decision(job: job)
        decision.park(reason: reason, at: now)
        job = try record(decision, from: job.state, at: now, in: db)
    }

    /// Writes a lifecycle decision: the job's row and history, what its end starts (a flow's next
    /// step, its queue trigger's evaluation), then the decision's effects in order.
    ///
    /// - Returns: the job as stored.
    private static func record(_ decision: JobLifecycle.Decision, from stored: JobState, at now: Date,
                               in db: Database) throws -> JobRecord {
        var job = decision.job
        if decision.changesJob {
            try job.updateRow(from: stored, in: db)
            for line in decision.history {
                try insertHistory(jobID: job.id!, at: now.storedValue, from: line.from, to: line.to,
                                  attempt: line.attempt, reason: line.reason, in: db)
            }
            if job.state.isTerminal && !stored.isTerminal { try ended(job, at: now, in: db) }
        }
        for effect in decision.effects {
            switch effect {
            case .keepLog(let attempt, let log):
                try keep(log, in: JobLogRecord.databaseTableName, jobID: job.id!, attempt: attempt, db)
            case .keepCleanupLog(let attempt, let log):
                try keep(log, in: CleanupLogRecord.databaseTableName, jobID: job.id!, attempt: attempt, db)
            case .tell(let message, let workerID):
                try enqueueControl(message, routingKey: Topology.controlRoutingKey(workerID: workerID), at: now, in: db)
            case .parkMessage(let reason):
                try enqueueParked(job, reason: reason, at: now, in: db)
            case .publishRetry(let wait):
                try enqueueRetry(of: job, waitMilliseconds: wait, at: now, in: db)
            case .returnToRobotQueue(let reason):
                try requeueTargeted(&job, reason: reason, at: now, in: db) {
                    RobotQueueRules.comeBack(&$0, reason: reason, due: false, at: now)
                }
            case .resendLaunch(let reason):
                try requeueTargeted(&job, reason: reason, at: now, in: db) {
                    RobotQueueRules.resend(&$0, reason: reason, at: now)
                }
            case .freeAccount(let account, let host):
                try markRobotQueueDue(group: job.group, host: host, accounts: [account], in: db)
            }
        }
        return job
    }

    /// Keeps an attempt's log in `table` (`job_logs`, `cleanup_logs`), in place of one kept for it
    /// before: one statement compiled once per connection, where a record's `save` tried an
    /// update, then an insert, each built anew.
    private static func keep(_ log: String, in table: String, jobID: Int64, attempt: Int, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO \(table) (jobID, attempt, log) VALUES (?, ?, ?)
            ON CONFLICT (jobID, attempt) DO UPDATE SET log = excluded.log
            """).execute(binding: jobID, attempt, log)
    }

    /// The job's message, parked in `botyard.dead` with the reason.
    private static func enqueueParked(_ job: JobRecord, reason: String, at now: Date, in db: Database) throws {
        let envelope = job.envelope(attempt: job.attempts)
        var outbox = OutboxRecord(
            id: nil, jobID: job.id!, kind: .dead, exchange: Topology.deadExchange, routingKey: envelope.routingKey,
            headers: [Topology.deadReasonHeader: String(reason.prefix(1024)), Topology.parkedByHeader: "dispatcher"],
            body: try JSONCodec.encode(envelope), messageID: "dead-\(job.id!)", mandatory: true, createdAt: now)
        try outbox.insert(db)
    }

    /// The next attempt goes through the TTL queue of its delay (straight back when there is no wait).
    private static func enqueueRetry(of job: JobRecord, waitMilliseconds: Int, at now: Date, in db: Database) throws {
        let envelope = job.envelope(attempt: job.dispatchedAttempt)
        let delayed = waitMilliseconds > 0
        var outbox = OutboxRecord(
            id: nil, jobID: job.id!, kind: .retry,
            exchange: delayed ? Topology.retryExchange : Topology.jobsExchange,
            routingKey: envelope.routingKey,
            headers: delayed ? [Topology.retryDelayHeader: String(waitMilliseconds)] : [:],
            body: try JSONCodec.encode(envelope), messageID: envelope.messageID, mandatory: true, createdAt: now)
        try outbox.insert(db)
    }
}
