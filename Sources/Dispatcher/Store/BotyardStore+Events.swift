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
        try write("apply event") { db in
            let seen = try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM applied_events WHERE eventID = ?)",
                                         arguments: [event.eventID]) ?? false
            if seen { return .duplicate }
            try db.execute(sql: "INSERT INTO applied_events (eventID, appliedAt) VALUES (?, ?)",
                           arguments: [event.eventID, now])
            guard var job = try JobRecord.fetchOne(db, key: event.jobID) else {
                return .ignored("unknown job \(event.jobID)")
            }
            switch event.kind {
            case .started:
                return try applyStarted(event, to: &job, at: now, in: db)
            case .finished:
                return try applyFinished(event, to: &job, random: random, at: now, in: db)
            }
        }
    }

    private func applyStarted(_ event: JobEvent, to job: inout JobRecord, at now: Date,
                              in db: Database) throws -> EventApplication {
        if job.state == .cancelled {
            // Cancelled while its message was on the way: stop it where it started.
            try Self.enqueueControl(.init(command: .cancel, jobID: job.id!),
                                    routingKey: Topology.controlRoutingKey(workerID: event.workerID), at: now, in: db)
            return .ignored("job was cancelled; told worker \(event.workerID) to stop it")
        }
        guard job.state.canTransition(to: .running) else { return .ignored("job is \(job.state.rawValue)") }
        guard event.attempt >= job.attempts else { return .ignored("stale start of attempt \(event.attempt)") }
        job.attempts = event.attempt
        job.startedAt = event.at
        job.workerID = event.workerID
        job.host = event.host
        job.ranAs = event.account
        let place = event.account.map { "\(event.host) as \($0)" } ?? event.host
        try Self.transition(&job, to: .running, attempt: event.attempt,
                            reason: "attempt \(event.attempt) started on \(place)", at: now, in: db)
        return .applied(.running, publishes: false)
    }

    private func applyFinished(_ event: JobEvent, to job: inout JobRecord, random: Double, at now: Date,
                               in db: Database) throws -> EventApplication {
        guard let outcome = event.outcome else { return .ignored("finished event without an outcome") }
        if job.state == .cancelled {
            // The worker confirms that the bot of a cancelled job has stopped: worth a line in its history.
            try JobLogRecord(jobID: job.id!, attempt: event.attempt, log: outcome.log).save(db)
            try Self.transition(&job, to: .cancelled, attempt: event.attempt,
                                reason: "bot stopped on \(event.host): \(outcome.reason)", at: now, in: db)
            return .applied(.cancelled, publishes: false)
        }
        guard !job.state.isTerminal else { return .ignored("job is already \(job.state.rawValue)") }
        guard event.attempt >= job.attempts else { return .ignored("stale outcome of attempt \(event.attempt)") }
        job.attempts = event.attempt
        job.exitCode = outcome.exitCode
        job.workerID = event.workerID
        job.host = event.host
        job.ranAs = event.account
        if !outcome.outputs.isEmpty { job.outputs = outcome.outputs }
        try JobLogRecord(jobID: job.id!, attempt: event.attempt, log: outcome.log).save(db)

        switch AttemptVerdict.judge(outcome, attempt: event.attempt, policy: job.retryPolicy, random: random) {
        case .succeeded:
            job.reason = nil
            job.finishedAt = event.at
            try Self.transition(&job, to: .succeeded, attempt: event.attempt,
                                reason: "attempt \(event.attempt) succeeded: \(outcome.reason)", at: now, in: db)
            return .applied(.succeeded, publishes: false)
        case .cancelled(let reason):
            job.reason = reason
            job.finishedAt = event.at
            try Self.transition(&job, to: .cancelled, attempt: event.attempt, reason: reason, at: now, in: db)
            return .applied(.cancelled, publishes: false)
        case .retry(let wait, let reason):
            job.reason = reason
            try Self.transition(&job, to: .retrying, attempt: event.attempt,
                                reason: "\(reason); attempt \(event.attempt + 1) in \(wait) ms", at: now, in: db)
            try enqueueRetry(of: job, attempt: event.attempt + 1, waitMilliseconds: wait, at: now, in: db)
            return .applied(.retrying, publishes: true)
        case .dead(let reason):
            job.reason = reason
            job.finishedAt = event.at
            try Self.transition(&job, to: .dead, attempt: event.attempt, reason: reason, at: now, in: db)
            let envelope = job.envelope(attempt: event.attempt)
            var outbox = OutboxRecord(
                id: nil, jobID: job.id!, kind: .dead, exchange: Topology.deadExchange, routingKey: envelope.routingKey,
                headers: [Topology.deadReasonHeader: String(reason.prefix(1024))], body: try JSONCodec.encode(envelope),
                messageID: "dead-\(job.id!)", mandatory: true, createdAt: now)
            try outbox.insert(db)
            return .applied(.dead, publishes: true)
        }
    }

    /// The next attempt goes through the TTL queue of its delay (straight back when there is no wait).
    private func enqueueRetry(of job: JobRecord, attempt: Int, waitMilliseconds: Int, at now: Date,
                              in db: Database) throws {
        let envelope = job.envelope(attempt: attempt)
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
