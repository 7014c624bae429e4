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
    func apply(_ event: JobEvent, random: Double, at now: Date = Date()) throws -> EventApplication {
        try apply([event], random: { random }, at: now)[0]
    }

    /// Applies reports in order, and records heartbeats, in one transaction (one disk sync for the lot).
    func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat] = [], random: () -> Double,
               at now: Date = Date()) throws -> [EventApplication] {
        let randoms = events.map { _ in random() }
        return try write("apply events") { db in
            try apply(events, heartbeats: heartbeats, randoms: randoms, at: now, in: db)
        }
    }

    /// ``apply(_:heartbeats:random:at:)`` for the event consumer: its transaction is shared with
    /// the other writes waiting at the same moment, and no thread of the cooperative pool waits for it.
    func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat],
               at now: Date = Date()) async throws -> [EventApplication] {
        let randoms = events.map { _ in Double.random(in: 0..<1) }
        return try await write("apply events") { db in
            try self.apply(events, heartbeats: heartbeats, randoms: randoms, at: now, in: db)
        }
    }

    private func apply(_ events: [JobEvent], heartbeats: [WorkerHeartbeat], randoms: [Double], at now: Date,
                       in db: Database) throws -> [EventApplication] {
        // Accounts that came up can take launches.
        for cameUp in try record(heartbeats, at: now, in: db) {
            try Self.markRobotQueueDue(group: cameUp.group, host: cameUp.host, accounts: cameUp.accounts, in: db)
        }
        return try zip(events, randoms).map { try apply($0, random: $1, at: now, in: db) }
    }

    private func apply(_ event: JobEvent, random: Double, at now: Date, in db: Database) throws -> EventApplication {
        // Once only: an event id already recorded inserts nothing.
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO applied_events (eventID, appliedAt) VALUES (?, ?)")
            .execute(arguments: [event.eventID, now.storedValue])
        if db.changesCount == 0 { return .duplicate }
        guard var job = try JobRecord.fetch(id: event.jobID, in: db) else {
            return .ignored("unknown job \(event.jobID)")
        }
        switch event.kind {
        case .started:
            return try applyStarted(event, to: &job, at: now, in: db)
        case .finished:
            let result = try applyFinished(event, to: &job, random: random, at: now, in: db)
            // The run, counted or not, has left its account; a launch for the account that will
            // retry keeps its place there.
            if let account = event.account, !(job.state == .retrying && job.account != nil) {
                try Self.markRobotQueueDue(group: job.group, host: event.host, accounts: [account], in: db)
            }
            return result
        case .returned:
            guard event.runID == job.runID, job.state.canTransition(to: .queued) else {
                return .ignored("return of a run that no longer counts")
            }
            // Stopped by its own worker, not failed: the run does not use up an attempt.
            job.attempts -= 1
            job.runID = nil
            try Self.transition(&job, to: .queued, attempt: job.attempts,
                                reason: "handed back to the queue by \(event.workerID) at shutdown", at: now, in: db)
            return .applied(.queued, publishes: false)
        case .cleanedUp:
            return try applyCleanedUp(event, to: &job, at: now, in: db)
        }
    }

    /// Notes an account's cleanup after a stopped or crashed attempt in the job's history (its state does
    /// not change) and keeps its log.
    private func applyCleanedUp(_ event: JobEvent, to job: inout JobRecord, at now: Date,
                                in db: Database) throws -> EventApplication {
        guard let outcome = event.outcome else { return .ignored("cleanup event without an outcome") }
        let attempt = max(event.attempt, 1)
        try CleanupLogRecord(jobID: job.id!, attempt: attempt, log: outcome.log).save(db)
        let on = "account \(event.account ?? "-") on \(event.host)"
        let reason = outcome.result == .succeeded
            ? "cleanup after attempt \(attempt) ran on \(on): \(outcome.reason)"
            : "cleanup after attempt \(attempt) failed on \(on): \(outcome.reason); the account takes no jobs "
                + "until an operator clears it"
        try Self.transition(&job, to: job.state, attempt: job.attempts, reason: reason, at: now, in: db)
        return .applied(job.state, publishes: false)
    }

    /// Records that the broker, or a worker, parked a job's message in `botyard.dead` on its own
    /// (delivery limit reached, message unusable): the job is dead unless it already ended.
    func markParked(jobID: Int64, attempt: Int, reason: String, at now: Date = Date()) throws -> EventApplication {
        try write("mark parked") { db in
            guard var job = try JobRecord.fetch(id: jobID, in: db) else { return .ignored("unknown job \(jobID)") }
            guard !job.state.isTerminal else { return .ignored("job is already \(job.state.rawValue)") }
            guard attempt >= job.dispatchedAttempt else { return .ignored("parked copy of superseded attempt \(attempt)") }
            job.reason = reason
            job.finishedAt = now
            job.failureKind = .system
            try Self.transition(&job, to: .dead, attempt: job.attempts, reason: reason, at: now, in: db)
            try Self.accountFreed(by: job, in: db)
            return .applied(.dead, publishes: false)
        }
    }

    private func applyStarted(_ event: JobEvent, to job: inout JobRecord, at now: Date,
                              in db: Database) throws -> EventApplication {
        let jobID = job.id!
        func stopIt() throws {
            try Self.enqueueControl(.init(command: .cancel, jobID: jobID),
                                    routingKey: Topology.controlRoutingKey(workerID: event.workerID), at: now, in: db)
        }
        if job.state == .cancelled {
            // Cancelled while its message was on the way: stop it where it started.
            try stopIt()
            return .ignored("job was cancelled; told worker \(event.workerID) to stop it")
        }
        func stopThisRun(_ why: String) throws {
            try Self.enqueueControl(.init(command: .stopRun, jobID: jobID, runID: event.runID),
                                    routingKey: Topology.controlRoutingKey(workerID: event.workerID), at: now, in: db)
            // No state changes; the note tells operators why a bot of this job was stopped.
            try Self.transition(&job, to: job.state, attempt: job.attempts,
                                reason: "\(why) started on \(event.workerID); told it to stop", at: now, in: db)
        }
        if job.state.isTerminal {
            // A copy of a message from before the job ended (its host was lost and it ran
            // elsewhere, say): it must not run again.
            try stopThisRun("a copy of attempt \(event.envelopeAttempt)'s message of this \(job.state.rawValue) job")
            return .ignored("job is \(job.state.rawValue); told worker \(event.workerID) to stop the copy")
        }
        guard job.state.canTransition(to: .running) else { return .ignored("job is \(job.state.rawValue)") }
        guard event.envelopeAttempt >= job.dispatchedAttempt else {
            // A redelivered copy of a message whose attempt was already judged (its worker's ack was
            // lost), or a launch's message to a host that was lost before it started: the bot would
            // run twice.
            try stopThisRun("a superseded copy of attempt \(event.envelopeAttempt)'s message")
            return .ignored("superseded message of attempt \(event.envelopeAttempt); attempt \(job.dispatchedAttempt) is under way")
        }
        let place = event.account.map { "\(event.host) as \($0)" } ?? event.host
        if (job.state == .running || job.state == .paused) && event.attempt == event.envelopeAttempt {
            // A first delivery of the attempt that already runs: the outbox published it twice.
            // Its outcome would not count (another run is current); it is not a rerun, and is stopped.
            try stopThisRun("a second copy of attempt \(event.envelopeAttempt)'s message")
            return .ignored("second copy of the message of attempt \(event.envelopeAttempt)")
        }
        guard job.attempts < job.retryPolicy.maxAttempts else {
            // The broker redelivered the last attempt after its worker was lost: no attempt is left for it.
            let reason = "attempts exhausted (\(job.attempts) of \(job.retryPolicy.maxAttempts)); "
                + "last: worker lost during attempt \(job.attempts)"
            try stopIt()
            try Self.park(&job, reason: reason, at: now, in: db)
            return .applied(.dead, publishes: true)
        }
        job.attempts += 1
        job.runID = event.runID
        job.startedAt = event.at
        job.workerID = event.workerID
        job.host = event.host
        job.ranAs = event.account
        let rerun = job.state == .running || job.state == .paused ? " (rerun: the previous worker was lost)" : ""
        // The bot is told how often its message was delivered; a delivery handed back unrun counts there.
        let told = event.attempt != job.attempts ? "; the bot was told attempt \(event.attempt)" : ""
        try Self.transition(&job, to: .running, attempt: job.attempts,
                            reason: "attempt \(job.attempts) started on \(place)\(rerun)\(told)", at: now, in: db)
        return .applied(.running, publishes: false)
    }

    private func applyFinished(_ event: JobEvent, to job: inout JobRecord, random: Double, at now: Date,
                               in db: Database) throws -> EventApplication {
        guard let outcome = event.outcome else { return .ignored("finished event without an outcome") }
        if job.state == .cancelled {
            // The worker confirms that the bot of a cancelled job has stopped: worth a line in its history.
            try JobLogRecord(jobID: job.id!, attempt: max(job.attempts, 1), log: outcome.log).save(db)
            try Self.transition(&job, to: .cancelled, attempt: job.attempts,
                                reason: "bot stopped on \(event.host): \(outcome.reason)", at: now, in: db)
            return .applied(.cancelled, publishes: false)
        }
        guard !job.state.isTerminal else { return .ignored("job is already \(job.state.rawValue)") }
        guard event.runID == job.runID else { return .ignored("outcome of a run that no longer counts") }
        let attempt = job.attempts
        job.exitCode = outcome.exitCode
        // The outputs are the counted attempt's own: a later attempt that writes none leaves none.
        job.outputs = outcome.outputs
        try JobLogRecord(jobID: job.id!, attempt: attempt, log: outcome.log).save(db)

        if outcome.result == .failedToStart, job.account != nil {
            try Self.returnToRobotQueue(&job, reason: "runtime failed to start on \(event.host): \(outcome.reason)", at: now,
                                   in: db)
            return .applied(job.state, publishes: job.state == .dead)
        }
        switch AttemptVerdict.judge(outcome, attempt: attempt, policy: job.retryPolicy, random: random) {
        case .succeeded:
            job.reason = nil
            job.finishedAt = event.at
            try Self.transition(&job, to: .succeeded, attempt: attempt,
                                reason: "attempt \(attempt) succeeded: \(outcome.reason)", at: now, in: db)
            return .applied(.succeeded, publishes: false)
        case .cancelled(let reason):
            job.reason = reason
            job.finishedAt = event.at
            try Self.transition(&job, to: .cancelled, attempt: attempt, reason: reason, at: now, in: db)
            return .applied(.cancelled, publishes: false)
        case .businessException(let reason):
            job.reason = reason
            job.finishedAt = event.at
            job.failureKind = .business
            try Self.transition(&job, to: .failed, attempt: attempt,
                                reason: "attempt \(attempt) ended in a \(reason); not retried", at: now, in: db)
            return .applied(.failed, publishes: false)
        case .retry(let wait, let reason):
            job.reason = reason
            job.dispatchedAttempt = attempt + 1
            try Self.transition(&job, to: .retrying, attempt: attempt,
                                reason: "\(reason); attempt \(attempt + 1) in \(wait) ms", at: now, in: db)
            try enqueueRetry(of: job, waitMilliseconds: wait, at: now, in: db)
            return .applied(.retrying, publishes: true)
        case .dead(let reason):
            try Self.park(&job, reason: reason, at: now, in: db)
            return .applied(.dead, publishes: true)
        }
    }

    /// Makes the job dead and parks its message in `botyard.dead` with the reason.
    static func park(_ job: inout JobRecord, reason: String, at now: Date, in db: Database) throws {
        job.reason = reason
        job.finishedAt = now
        job.failureKind = .system
        try Self.transition(&job, to: .dead, attempt: job.attempts, reason: reason, at: now, in: db)
        let envelope = job.envelope(attempt: job.attempts)
        var outbox = OutboxRecord(
            id: nil, jobID: job.id!, kind: .dead, exchange: Topology.deadExchange, routingKey: envelope.routingKey,
            headers: [Topology.deadReasonHeader: String(reason.prefix(1024)), Topology.parkedByHeader: "dispatcher"],
            body: try JSONCodec.encode(envelope), messageID: "dead-\(job.id!)", mandatory: true, createdAt: now)
        try outbox.insert(db)
    }

    /// The next attempt goes through the TTL queue of its delay (straight back when there is no wait).
    private func enqueueRetry(of job: JobRecord, waitMilliseconds: Int, at now: Date, in db: Database) throws {
        let envelope = job.envelope(attempt: job.dispatchedAttempt, credential: try Self.credential(for: job, in: db))
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
