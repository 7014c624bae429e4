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

/// A row of `credentials`.
struct CredentialRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "credentials"

    var host: String
    var account: String
    var username: String
    var password: String
    var updatedAt: Date
}

/// What one pass over the robot queue did.
public struct RobotQueuePass: Sendable, Equatable {
    public var dispatched = 0
    public var dead = 0
    /// When the earliest entry that an event made due may be tried (its wait is not over yet).
    public var nextTry: Date?
}

extension BotyardStore {
    /// The robot queue, oldest first.
    public func robotQueue() throws -> [RobotQueueEntry] {
        try read("list robot queue") { db in
            try RobotQueueRecord.order(Column("addedAt"), Column("jobID")).fetchAll(db).compactMap { entry in
                guard let job = try JobRecord.fetchOne(db, key: entry.jobID) else { return nil }
                return RobotQueueEntry(
                    jobID: entry.jobID, bot: job.bot, botVersion: job.botSnapshot.version, needsUI: entry.needsUI,
                    addedAt: entry.addedAt, launchMethod: job.launchMethod, initiator: job.initiator, host: entry.host,
                    account: entry.account, attempts: entry.attempts, maxAttempts: entry.maxAttempts,
                    notBefore: entry.notBefore, reason: entry.reason)
            }
        }
    }

    /// Stores an account's credential (replacing the old one); the robot queue is tried again.
    public func saveCredential(_ credential: AccountCredential, host: String, account: String,
                               at now: Date = Date()) throws {
        try write("save credential") { db in
            try CredentialRecord(host: host, account: account, username: credential.username,
                                 password: credential.password, updatedAt: now).save(db)
            try Self.markRobotQueueDue(host: host, account: account, in: db)
        }
    }

    public func credentials() throws -> [CredentialSummary] {
        try read("list credentials") { db in
            try CredentialRecord.order(Column("host"), Column("account")).fetchAll(db).map {
                CredentialSummary(host: $0.host, account: $0.account, username: $0.username, updatedAt: $0.updatedAt)
            }
        }
    }

    /// Tries, in order, every entry an event made due whose wait is over: dispatches what can
    /// start now, records what gave up as `dead`, and leaves the rest waiting for the next event.
    public func retryRobotQueue(at now: Date = Date()) throws -> RobotQueuePass {
        try write("retry robot queue") { db in
            var pass = RobotQueuePass()
            let due = try RobotQueueRecord.filter(Column("due") == true && Column("notBefore") <= now)
                .order(Column("addedAt"), Column("jobID")).fetchAll(db)
            for var entry in due {
                guard var job = try JobRecord.fetchOne(db, key: entry.jobID) else { continue }
                entry.attempts += 1
                switch try tryToStart(&job, entry: &entry, at: now, in: db) {
                case .dispatched: pass.dispatched += 1
                case .dead: pass.dead += 1
                case .waiting: break
                }
            }
            pass.nextTry = try Date.fetchOne(db, sql: "SELECT MIN(notBefore) FROM robot_queue WHERE due = 1")
            return pass
        }
    }

    enum RobotQueueOutcome { case dispatched, waiting, dead }

    /// A targeted launch, just stored: dispatched now, or entered in the robot queue (or, when
    /// `sync`, rejected with the reason).
    func placeTargeted(_ job: inout JobRecord, sync: Bool, at now: Date, in db: Database) throws {
        if sync, case .wait(let reason) = try Self.check(job, host: job.targetHost, at: now, in: db) {
            job.reason = "No slots available: \(reason)"
            job.finishedAt = now
            try Self.transition(&job, to: .rejected, attempt: 0, reason: job.reason!, at: now, in: db)
            return
        }
        var entry = Self.newEntry(for: job, attempts: 1, at: now)
        _ = try tryToStart(&job, entry: &entry, at: now, in: db)
    }

    /// A targeted run whose runtime failed to start on its account: the launch goes back to the
    /// robot queue (the try that dispatched it failed) instead of the retry policy. The bot never
    /// ran, so the run uses no attempt; its message is superseded, so a stale copy cannot start it.
    func returnToRobotQueue(_ job: inout JobRecord, reason: String, at now: Date, in db: Database) throws {
        var entry = Self.newEntry(for: job, attempts: max(job.robotQueueTries, 1), at: now)
        job.runID = nil
        job.attempts -= 1
        job.dispatchedAttempt += 1
        try Self.transition(&job, to: .pending, attempt: job.attempts, reason: "back in the robot queue: \(reason)",
                            at: now, in: db)
        if entry.attempts >= entry.maxAttempts {
            let tries = entry.attempts == 1 ? "1 try" : "\(entry.attempts) tries"
            try park(&job, reason: "robot queue: gave up after \(tries); last: \(reason)", at: now, in: db)
            return
        }
        entry.reason = reason
        entry.notBefore = now.addingTimeInterval(TimeInterval(entry.waitSeconds))
        try entry.save(db)
        job.reason = "robot queue: \(reason)"
        try job.update(db)
    }

    private static func newEntry(for job: JobRecord, attempts: Int, at now: Date) -> RobotQueueRecord {
        let policy = job.robotQueuePolicy ?? RobotQueuePolicy()
        return RobotQueueRecord(
            jobID: job.id!, host: job.targetHost, account: job.account!, needsUI: job.botSnapshot.needsUI, addedAt: now,
            attempts: attempts, maxAttempts: policy.maxAttempts, waitSeconds: policy.waitSeconds, notBefore: now,
            due: false, reason: "")
    }

    /// One try of a robot-queue entry (whose `attempts` counts this try).
    private func tryToStart(_ job: inout JobRecord, entry: inout RobotQueueRecord, at now: Date,
                            in db: Database) throws -> RobotQueueOutcome {
        job.robotQueueTries = entry.attempts
        switch try Self.check(job, host: entry.host, at: now, in: db) {
        case .dispatch(let host):
            try RobotQueueRecord.deleteOne(db, key: entry.jobID)
            job.dispatchHost = host
            job.reason = nil
            let tries = entry.attempts == 1 ? "" : " after \(entry.attempts) tries in the robot queue"
            try Self.transition(&job, to: .pending, attempt: job.attempts,
                                reason: "dispatched to account \(entry.account) on \(host)\(tries)", at: now, in: db)
            let credential = try Self.credential(for: job, in: db)
            let envelope = job.envelope(attempt: job.dispatchedAttempt, credential: credential)
            try Self.enqueueDispatch(envelope, jobID: job.id!, at: now, in: db)
            return .dispatched
        case .wait(let reason) where entry.attempts >= entry.maxAttempts:
            try RobotQueueRecord.deleteOne(db, key: entry.jobID)
            let tries = entry.attempts == 1 ? "1 try" : "\(entry.attempts) tries"
            try park(&job, reason: "robot queue: gave up after \(tries); last: \(reason)", at: now, in: db)
            return .dead
        case .wait(let reason):
            let first = entry.reason.isEmpty
            entry.reason = reason
            entry.due = false
            entry.notBefore = now.addingTimeInterval(TimeInterval(entry.waitSeconds))
            try entry.save(db)
            job.reason = "robot queue: \(reason)"
            if first {
                try Self.transition(&job, to: .pending, attempt: job.attempts,
                                    reason: "waiting in the robot queue: \(reason)", at: now, in: db)
            } else {
                try job.update(db)
            }
            return .waiting
        }
    }

    /// A job that held an account (dispatched to it, or running there) ended without a report of
    /// the worker: the account's robot-queue entries are due.
    static func accountFreed(by job: JobRecord, in db: Database) throws {
        guard let account = job.ranAs ?? job.account, let host = job.host ?? job.dispatchHost else { return }
        try markRobotQueueDue(host: host, account: account, in: db)
    }

    /// A run finished, credentials changed or a host became active: the entries it concerns
    /// (for `account`, any when nil; on `host` or on any host) are tried again on the next pass
    /// whose time has come. Entries for other accounts and hosts keep their tries.
    static func markRobotQueueDue(host: String?, account: String?, in db: Database) throws {
        try db.execute(sql: """
            UPDATE robot_queue SET due = 1
            WHERE (:host IS NULL OR host IS NULL OR host = :host) AND (:account IS NULL OR account = :account)
            """, arguments: ["host": host, "account": account])
    }

    private static func check(_ job: JobRecord, host: String?, at now: Date,
                              in db: Database) throws -> RobotQueueCheck.Verdict {
        let account = job.account!
        let workers = try WorkerRecord.filter(Column("group") == job.group).fetchAll(db).map { $0.status(at: now) }
        var credentials: Set<String> = []
        var loads: [String: RobotQueueCheck.AccountLoad] = [:]
        for host in Set(workers.map(\.host)) {
            if try CredentialRecord.fetchOne(db, key: ["host": host, "account": account]) != nil {
                credentials.insert(host)
            }
            loads[host] = try accountLoad(host: host, account: account, excluding: job.id!, in: db)
        }
        let check = RobotQueueCheck(group: job.group, host: host, account: account, needsUI: job.botSnapshot.needsUI)
        return check.verdict(workers: workers, hasCredential: credentials.contains,
                             load: { loads[$0] ?? RobotQueueCheck.AccountLoad() })
    }

    /// Jobs that hold `account` on `host`: running there, or dispatched to it and not started.
    private static func accountLoad(host: String, account: String, excluding jobID: Int64,
                                    in db: Database) throws -> RobotQueueCheck.AccountLoad {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS jobs, COALESCE(SUM(json_extract(botSnapshot, '$.needsUI')), 0) AS uiJobs FROM jobs
            WHERE id != ? AND ((state = 'running' AND host = ? AND ranAs = ?)
               OR (state IN ('pending', 'queued', 'retrying') AND dispatchHost = ? AND account = ?
                   AND id NOT IN (SELECT jobID FROM robot_queue)))
            """, arguments: [jobID, host, account, host, account])
        return RobotQueueCheck.AccountLoad(jobs: row?["jobs"] ?? 0, uiJobs: row?["uiJobs"] ?? 0)
    }
}
