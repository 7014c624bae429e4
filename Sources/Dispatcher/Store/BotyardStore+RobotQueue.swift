import Foundation
import GRDB
import Shared

/// A row of `robot_queue`: a targeted launch that could not start yet.
struct RobotQueueRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "robot_queue"

    var jobID: Int64
    var host: String?
    var account: String
    var needsUI: Bool
    var addedAt: Date
    var attempts: Int
    var maxAttempts: Int
    var waitSeconds: Int
    var notBefore: Date
    var due: Bool
    var reason: String
}

/// What one pass over the robot queue did.
public struct RobotQueuePass: Sendable, Equatable {
    /// The jobs sent to their account.
    public var dispatchedJobs: [Int64] = []
    /// The jobs that gave up waiting.
    public var deadJobs: [Int64] = []
    /// When the earliest entry that an event made due may be tried (its wait is not over yet).
    public var nextTry: Date?
}

extension BotyardStore {
    /// The robot queue, oldest first.
    public func robotQueue() async throws -> [RobotQueueEntry] {
        try await read("list robot queue") { db in
            try RobotQueueRecord.order(Column("addedAt"), Column("jobID")).fetchAll(db).compactMap { entry in
                guard let job = try JobRecord.fetch(id: entry.jobID, in: db) else { return nil }
                return RobotQueueEntry(
                    jobID: entry.jobID, bot: job.bot, botVersion: job.botSnapshot.version, needsUI: entry.needsUI,
                    addedAt: entry.addedAt, launchMethod: job.launchMethod, initiator: job.initiator, host: entry.host,
                    account: entry.account, attempts: entry.attempts, maxAttempts: entry.maxAttempts,
                    notBefore: entry.notBefore, reason: entry.reason)
            }
        }
    }

    /// Tries, in order, every entry an event made due whose wait is over: dispatches what can
    /// start now, records what gave up as `dead`, and leaves the rest waiting for the next event.
    public func retryRobotQueue(at now: Date = Date()) async throws -> RobotQueuePass {
        let ready = RobotQueueRecord.filter(Column("due") == true && Column("notBefore") <= now)
        // Woken by every batch of worker reports, it mostly finds nothing ready: it looks without
        // holding up the writers first.
        let nextTry = "SELECT MIN(notBefore) FROM robot_queue WHERE due = 1"
        let (isReady, next) = try await read("look at robot queue") { db in
            (try !ready.isEmpty(db), try Date.fetchOne(db, sql: nextTry))
        }
        guard isReady else { return RobotQueuePass(nextTry: next) }
        return try await write("retry robot queue") { db in
            var pass = RobotQueuePass()
            for var entry in try ready.order(Column("addedAt"), Column("jobID")).fetchAll(db) {
                guard var job = try JobRecord.fetch(id: entry.jobID, in: db) else { continue }
                switch try Self.tryToStart(&job, entry: &entry, at: now, in: db) {
                case .dispatched: pass.dispatchedJobs.append(entry.jobID)
                case .dead: pass.deadJobs.append(entry.jobID)
                case .waiting: break
                }
            }
            pass.nextTry = try Date.fetchOne(db, sql: nextTry)
            return pass
        }
    }

    enum RobotQueueOutcome { case dispatched, waiting, dead }

    /// A targeted launch, just stored: dispatched now, or entered in the robot queue (or, when
    /// `sync`, rejected with the reason).
    static func placeTargeted(_ job: inout JobRecord, sync: Bool, at now: Date, in db: Database) throws {
        var entry = RobotQueueRules.entry(for: job, tries: 0)
        if sync {
            let earlier = try Self.earlierEntry(than: entry, at: now, in: db)
            let refusal = try RobotQueueRules.refusal(behind: earlier) {
                try Self.check(job, host: job.targetHost, at: now, in: db)
            }
            if let reason = refusal {
                job.reason = "No slots available: \(reason)"
                job.finishedAt = now
                try Self.transition(&job, to: .rejected, attempt: 0, reason: job.reason!, at: now, in: db)
                return
            }
        }
        _ = try Self.tryToStart(&job, entry: &entry, at: now, in: db)
    }

    /// Targeted launches dispatched to a host that cannot start them any more — every worker of
    /// their group there is lost, or none of them serves the account at all — before they
    /// started go back to the robot queue: due, so that they are tried again after their wait, on
    /// another host serving the account if they name none. Their message is superseded: a copy
    /// that starts should the host come back is stopped.
    ///
    /// Judged only while heartbeats come in (some worker is active): after a dispatcher restart or
    /// a broker outage every worker looks silent until its heartbeats are read again.
    ///
    /// - Returns: how many went back.
    public func returnLaunchesOfLostHosts(at now: Date = Date()) async throws -> Int {
        // Nearly every pass finds nothing: it looks without holding up the writers first.
        guard try await !read("find launches of lost hosts", { try Self.strandedLaunches(at: now, in: $0) }).isEmpty
        else { return 0 }
        return try await write("return launches of lost hosts") { db in
            let stranded = try Self.strandedLaunches(at: now, in: db)
            for (var job, reason) in stranded {
                try Self.requeueTargeted(&job, reason: reason, at: now, in: db) {
                    RobotQueueRules.comeBack(&$0, reason: reason, due: true, at: now)
                }
            }
            return stranded.count
        }
    }

    /// The dispatched, unstarted targeted launches whose host cannot start them any more, with why.
    private static func strandedLaunches(at now: Date, in db: Database) throws -> [(JobRecord, String)] {
        let dispatched = try JobRecord.fetchAll(db, sql: dispatchedLaunchesSQL)
        guard !dispatched.isEmpty else { return [] }
        let workers = try WorkerRecord.fetchAll(db).map { $0.status(at: now) }
        guard workers.contains(where: { $0.state == .active }) else { return [] }
        return dispatched.compactMap { job in
            let host = job.dispatchHost!
            let there = workers.filter { $0.group == job.group && $0.host == host && $0.state != .lost }
            guard !there.contains(where: { $0.accounts.contains { $0.name == job.account } }) else { return nil }
            return (job, there.isEmpty ? "host \(host) was lost before the launch started"
                : "account \(job.account!) is no longer served on host \(host)")
        }
    }

    /// Targeted launches dispatched to a host and not started. Runs on every wake of the robot
    /// queue, so it must search the partial index `jobs_dispatched_to` (a range on `dispatchHost`);
    /// left to itself SQLite prefers the index on `state` and reads every waiting job's row — with
    /// thousands of jobs queued in a group, milliseconds on each worker report.
    static let dispatchedLaunchesSQL = """
        SELECT * FROM jobs INDEXED BY jobs_dispatched_to
        WHERE \(JobStateCondition.waiting) AND state != 'retrying' AND dispatchHost IS NOT NULL
          AND account IS NOT NULL AND id NOT IN (SELECT jobID FROM robot_queue)
        """

    /// A dispatched targeted launch goes back to the robot queue, its message superseded (and
    /// dropped if it was not published yet), so that a stale copy cannot start it; `comingBack` is
    /// the robot queue's rule for it (``RobotQueueRules/comeBack(_:reason:due:at:)`` or
    /// ``RobotQueueRules/resend(_:reason:at:)``).
    static func requeueTargeted(_ job: inout JobRecord, reason: String, at now: Date, in db: Database,
                                comingBack: (inout RobotQueueRecord) -> RobotQueueRules.Step) throws {
        var entry = RobotQueueRules.entry(for: job, tries: max(job.robotQueueTries, 1))
        try Self.dropUnpublished([.dispatch], ofJob: job.id!, in: db)
        job.dispatchedAttempt += 1
        job.dispatchHost = nil  // it holds no account while it waits
        job.reason = "robot queue: \(reason)"
        try Self.transition(&job, to: .pending, attempt: job.attempts, reason: "back in the robot queue: \(reason)",
                            at: now, in: db)
        // Its history has the line already; it is not in the robot queue yet, so giving up removes nothing.
        if case .giveUp(let reason) = comingBack(&entry) {
            try Self.park(&job, reason: reason, at: now, in: db)
        } else {
            try entry.save(db)
        }
    }

    /// One try of a robot-queue entry (``RobotQueueRules/tryToStart(_:behind:verdict:at:)``), written.
    private static func tryToStart(_ job: inout JobRecord, entry: inout RobotQueueRecord, at now: Date,
                                   in db: Database) throws -> RobotQueueOutcome {
        let earlier = try Self.earlierEntry(than: entry, at: now, in: db)
        let (launch, host) = (job, entry.host)
        let step = try RobotQueueRules.tryToStart(&entry, behind: earlier, verdict: {
            try Self.check(launch, host: host, at: now, in: db)
        }, at: now)
        job.robotQueueTries = entry.attempts
        return try Self.record(step, of: &job, entry: entry, at: now, in: db)
    }

    /// Writes what a try (or a launch's coming back) led to: the entry, the job and its history,
    /// and the dispatch message or the parked one.
    private static func record(_ step: RobotQueueRules.Step, of job: inout JobRecord, entry: RobotQueueRecord,
                               at now: Date, in db: Database) throws -> RobotQueueOutcome {
        switch step {
        case .dispatch(let host, let note):
            try RobotQueueRecord.deleteOne(db, key: entry.jobID)
            job.dispatchHost = host
            job.reason = nil
            try Self.transition(&job, to: .pending, attempt: job.attempts, reason: note, at: now, in: db)
            try Self.enqueueDispatch(job.envelope(attempt: job.dispatchedAttempt), jobID: job.id!, at: now, in: db)
            return .dispatched
        case .wait(let reason, let entering):
            try entry.save(db)
            job.reason = "robot queue: \(reason)"
            if entering {
                try Self.transition(&job, to: .pending, attempt: job.attempts,
                                    reason: "waiting in the robot queue: \(reason)", at: now, in: db)
            } else {
                // Already waiting: its state stays.
                try job.updateRow(from: job.state, in: db)
            }
            return .waiting
        case .giveUp(let reason):
            try RobotQueueRecord.deleteOne(db, key: job.id!)
            try Self.park(&job, reason: reason, at: now, in: db)
            return .dead
        }
    }

    /// The earliest entry added before `entry`, for its account on a host it may take, that an
    /// event made due but whose wait is not over: it has the first claim on what freed.
    private static func earlierEntry(than entry: RobotQueueRecord, at now: Date,
                                     in db: Database) throws -> RobotQueueRecord? {
        try RobotQueueRecord.filter(sql: """
            account = :account AND (host IS NULL OR :host IS NULL OR host = :host)
            AND due = 1 AND notBefore > :now AND jobID != :jobID
            AND (addedAt < :addedAt OR (addedAt = :addedAt AND jobID < :jobID))
            """, arguments: ["account": entry.account, "host": entry.host, "now": now, "jobID": entry.jobID,
                             "addedAt": entry.addedAt])
            .order(Column("addedAt"), Column("jobID")).fetchOne(db)
    }

    /// A job that held an account (dispatched to it, or running there) ended without a report of
    /// the worker: the account's robot-queue entries are due.
    static func accountFreed(by job: JobRecord, in db: Database) throws {
        guard let account = job.ranAs ?? job.account, let host = job.host ?? job.dispatchHost else { return }
        try markRobotQueueDue(group: job.group, host: host, accounts: [account], in: db)
    }

    /// A run finished, credentials changed or a host became active: the entries it concerns are
    /// tried again on the next pass whose time has come — those of `group` (any when nil), for one
    /// of `accounts`, asking for `host` or for any host. Entries the event cannot help keep their
    /// tries.
    static func markRobotQueueDue(group: String?, host: String, accounts: Set<String>, in db: Database) throws {
        guard !accounts.isEmpty else { return }
        let arguments: [any DatabaseValueConvertible] = accounts.sorted() + [host] + (group.map { [$0] } ?? [])
        let sql = markDueSQL(accounts: accounts.count, byGroup: group != nil)
        // A finished run frees one account: that statement is compiled once per connection.
        let statement = accounts.count == 1 ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        try statement.execute(arguments: StatementArguments(arguments))
    }

    /// Marks due the launches waiting for some accounts on a host; with `byGroup`, only those of a
    /// group, checked per launch by its job's key: run on every finished report, it must not list
    /// the group's jobs, which grow with the store.
    static func markDueSQL(accounts: Int, byGroup: Bool) -> String {
        """
        UPDATE robot_queue SET due = 1
        WHERE account IN (\(placeholders(accounts))) AND (host IS NULL OR host = ?)
        \(byGroup ? "AND EXISTS (SELECT 1 FROM jobs WHERE jobs.id = robot_queue.jobID AND jobs.\"group\" = ?)" : "")
        """
    }

    private static func check(_ job: JobRecord, host: String?, at now: Date,
                              in db: Database) throws -> RobotQueueCheck.Verdict {
        let account = job.account!
        let workers = try WorkerRecord.filter(Column("group") == job.group).fetchAll(db).map { $0.status(at: now) }
        var credentials: Set<String> = []
        var loads: [String: RobotQueueCheck.AccountLoad] = [:]
        for host in Set(workers.map(\.host)) {
            if try hasCredential(host: host, account: account, in: db) { credentials.insert(host) }
            loads[host] = try accountLoad(host: host, account: account, excluding: job.id!, in: db)
        }
        let check = RobotQueueCheck(group: job.group, host: host, account: account, needsUI: job.botSnapshot.needsUI)
        return check.verdict(workers: workers, hasCredential: credentials.contains,
                             load: { loads[$0] ?? RobotQueueCheck.AccountLoad() })
    }

    /// Jobs that hold `account` on `host`: running there, or dispatched to it and not started.
    private static func accountLoad(host: String, account: String, excluding jobID: Int64,
                                    in db: Database) throws -> RobotQueueCheck.AccountLoad {
        let row = try Row.fetchOne(db.cachedStatement(sql: accountLoadSQL),
                                   arguments: [jobID, host, account, host, account])
        return RobotQueueCheck.AccountLoad(jobs: row?["jobs"] ?? 0, uiJobs: row?["uiJobs"] ?? 0)
    }

    /// What holds an account on a host, read through `jobs_running_on` and `jobs_dispatched_to`
    /// (one search each), never over the jobs that ended.
    static let accountLoadSQL = """
        SELECT COUNT(*) AS jobs, COALESCE(SUM(json_extract(botSnapshot, '$.needsUI')), 0) AS uiJobs FROM jobs
        WHERE id != ? AND ((state IN ('running', 'paused') AND host = ? AND ranAs = ?)
           OR (\(JobStateCondition.waiting) AND dispatchHost = ? AND account = ?
               AND id NOT IN (SELECT jobID FROM robot_queue)))
        """
}
