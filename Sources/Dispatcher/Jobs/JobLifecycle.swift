import Foundation
import Shared

/// A job's lifecycle as workers' reports drive it: which report counts, which run is a rerun,
/// which copy of a message is superseded and is stopped, whether a failed attempt is retried or
/// parked. It reads the job as stored and answers with a ``Decision``; the store writes the
/// decision, with the report's once-only mark, in one transaction.
enum JobLifecycle {
    /// What `event` does to `job`.
    ///
    /// - Parameter random: a number in `0..<1` placing the retry backoff's jitter.
    static func apply(_ event: JobEvent, to job: JobRecord, random: Double, at now: Date) -> Decision {
        var decision = Decision(job: job)
        switch event.kind {
        case .started:
            decision.start(event, at: now)
        case .finished:
            // The outcome of the run the job waits for came before that run's start (reports handed
            // back to the broker come again after later ones): it counts the start too.
            if decision.awaitsStart(of: event) { decision.start(event, at: now) }
            decision.finish(event, random: random, at: now)
            // The run, counted or not, has left its account; a launch for the account that will
            // retry keeps its place there.
            if let account = event.account, !(decision.job.state == .retrying && decision.job.account != nil) {
                decision.effects.append(.freeAccount(account, host: event.host))
            }
        case .returned:
            decision.handBack(event, at: now)
        case .messageLost:
            decision.resend(event, at: now)
        case .cleanedUp:
            decision.noteCleanup(event, at: now)
        }
        return decision
    }

    /// The broker, or a worker, parked the message of attempt `attempt` in `botyard.dead` on its
    /// own (delivery limit reached, message unusable): the job is dead unless it already ended.
    static func parked(_ job: JobRecord, attempt: Int, reason: String, at now: Date) -> Decision {
        var decision = Decision(job: job)
        guard !job.state.isTerminal else {
            decision.ignore("job is already \(job.state.rawValue)")
            return decision
        }
        guard attempt >= job.dispatchedAttempt else {
            decision.ignore("parked copy of superseded attempt \(attempt)")
            return decision
        }
        decision.park(reason: reason, publish: false, at: now)
        // It held an account (dispatched to it, or running there) and ended without a report.
        if let account = job.ranAs ?? job.account, let host = job.host ?? job.dispatchHost {
            decision.effects.append(.freeAccount(account, host: host))
        }
        return decision
    }
}

extension JobLifecycle.Decision {
    fileprivate mutating func start(_ event: JobEvent, at now: Date) {
        let jobID = job.id!
        if event.runID == job.runID {
            guard job.state != .running && job.state != .paused else {
                return ignore("the start of run \(event.runID) is already counted")
            }
            // The run's outcome came first and counted its start, dated from the run's duration; the
            // start's own date is kept.
            job.startedAt = event.at
            return move(to: job.state, attempt: job.attempts,
                        reason: "attempt \(job.attempts)'s start reported after its outcome", at: now)
        }
        if job.state == .cancelled {
            // Cancelled while its message was on the way: stop it where it started.
            effects.append(.tell(ControlMessage(command: .cancel, jobID: jobID), workerID: event.workerID))
            return ignore("job was cancelled; told worker \(event.workerID) to stop it")
        }
        if job.state.isTerminal {
            // A copy of a message from before the job ended (its host was lost and it ran
            // elsewhere, say): it must not run again.
            stopRun(event, "a copy of attempt \(event.envelopeAttempt)'s message of this \(job.state.rawValue) job",
                    at: now)
            return ignore("job is \(job.state.rawValue); told worker \(event.workerID) to stop the copy")
        }
        guard job.state.canTransition(to: .running) else { return ignore("job is \(job.state.rawValue)") }
        guard event.envelopeAttempt >= job.dispatchedAttempt else {
            // A redelivered copy of a message whose attempt was already judged (its worker's ack was
            // lost), or a launch's message to a host that was lost before it started: the bot would
            // run twice.
            stopRun(event, "a superseded copy of attempt \(event.envelopeAttempt)'s message", at: now)
            return ignore("superseded message of attempt \(event.envelopeAttempt); "
                + "attempt \(job.dispatchedAttempt) is under way")
        }
        if (job.state == .running || job.state == .paused) && event.attempt == event.envelopeAttempt {
            // A first delivery of the attempt that already runs: the outbox published it twice.
            // Its outcome would not count (another run is current); it is not a rerun, and is stopped.
            stopRun(event, "a second copy of attempt \(event.envelopeAttempt)'s message", at: now)
            return ignore("second copy of the message of attempt \(event.envelopeAttempt)")
        }
        guard job.attempts < job.retryPolicy.maxAttempts else {
            // The broker redelivered the last attempt after its worker was lost: no attempt is left for it.
            effects.append(.tell(ControlMessage(command: .cancel, jobID: jobID), workerID: event.workerID))
            return park(reason: "attempts exhausted (\(job.attempts) of \(job.retryPolicy.maxAttempts)); "
                + "last: worker lost during attempt \(job.attempts)", at: now)
        }
        if job.state == .pending {
            // Its message reached a worker before the relay recorded the broker's confirm (that record
            // then finds the job no longer pending): the history says it was queued all the same.
            move(to: .queued, attempt: job.attempts, reason: "delivered to \(event.workerID) before the broker's "
                 + "confirm was recorded", at: now)
        }
        let rerun = job.state == .running || job.state == .paused ? " (rerun: the previous worker was lost)" : ""
        job.attempts += 1
        job.runID = event.runID
        job.startedAt = event.at
        job.workerID = event.workerID
        job.host = event.host
        job.ranAs = event.account
        var late = ""
        if event.kind == .finished, let startedAt = event.startedAt {
            job.startedAt = startedAt
            late = " (reported with its outcome)"
        } else if event.kind == .finished, let duration = event.outcome?.durationMilliseconds {
            // An end from a worker that does not date its start: dated from the run's duration.
            job.startedAt = event.at.addingTimeInterval(-Double(duration) / 1000)
            late = " (counted from its outcome: the start's report had not come)"
        }
        let place = event.account.map { "\(event.host) as \($0)" } ?? event.host
        // The bot is told how often its message was delivered; a delivery handed back unrun counts there.
        let told = event.attempt != job.attempts ? "; the bot was told attempt \(event.attempt)" : ""
        move(to: .running, attempt: job.attempts,
             reason: "attempt \(job.attempts) started on \(place)\(rerun)\(told)\(late)", at: now)
    }

    /// Whether `event` is the outcome of a run not yet seen to start, of the attempt the job waits for.
    /// (A `finished` report without an outcome counts no start: it could not end the run it started.)
    fileprivate func awaitsStart(of event: JobEvent) -> Bool {
        event.outcome != nil && event.runID != job.runID && [.pending, .queued, .retrying].contains(job.state)
            && event.envelopeAttempt >= job.dispatchedAttempt
    }

    /// Stops one run of the job on the worker that reported it, with a note in the job's history
    /// saying why (its state does not change).
    private mutating func stopRun(_ event: JobEvent, _ why: String, at now: Date) {
        effects.append(.tell(ControlMessage(command: .stopRun, jobID: job.id!, runID: event.runID),
                             workerID: event.workerID))
        move(to: job.state, attempt: job.attempts, reason: "\(why) started on \(event.workerID); told it to stop",
             at: now)
    }

    fileprivate mutating func finish(_ event: JobEvent, random: Double, at now: Date) {
        guard let outcome = event.outcome else { return ignore("finished event without an outcome") }
        if job.state == .cancelled {
            // The worker confirms that the bot of a cancelled job has stopped: worth a line in its history.
            effects.append(.keepLog(attempt: max(job.attempts, 1), log: outcome.log))
            return move(to: .cancelled, attempt: job.attempts,
                        reason: "bot stopped on \(event.host): \(outcome.reason)", at: now)
        }
        guard !job.state.isTerminal else { return ignore("job is already \(job.state.rawValue)") }
        guard event.runID == job.runID else { return ignore("outcome of a run that no longer counts") }
        let attempt = job.attempts
        job.exitCode = outcome.exitCode
        // The outputs are the counted attempt's own: a later attempt that writes none leaves none.
        job.outputs = outcome.outputs
        effects.append(.keepLog(attempt: attempt, log: outcome.log))

        if outcome.result == .failedToStart, job.account != nil {
            // The bot never ran, so the run uses no attempt; the robot queue tries the launch again.
            job.runID = nil
            job.attempts -= 1
            effects.append(.returnToRobotQueue(reason: "runtime failed to start on \(event.host): \(outcome.reason)"))
            return
        }
        switch AttemptVerdict.judge(outcome, attempt: attempt, policy: job.retryPolicy, random: random) {
        case .succeeded:
            job.reason = nil
            job.finishedAt = event.at
            move(to: .succeeded, attempt: attempt, reason: "attempt \(attempt) succeeded: \(outcome.reason)", at: now)
        case .cancelled(let reason):
            job.reason = reason
            job.finishedAt = event.at
            move(to: .cancelled, attempt: attempt, reason: reason, at: now)
        case .businessException(let reason):
            job.reason = reason
            job.finishedAt = event.at
            job.failureKind = .business
            move(to: .failed, attempt: attempt, reason: "attempt \(attempt) ended in a \(reason); not retried", at: now)
        case .retry(let wait, let reason):
            job.reason = reason
            job.dispatchedAttempt = attempt + 1
            move(to: .retrying, attempt: attempt, reason: "\(reason); attempt \(attempt + 1) in \(wait) ms", at: now)
            effects.append(.publishRetry(waitMilliseconds: wait))
        case .dead(let reason):
            park(reason: reason, at: now)
        }
    }

    /// Stopped by its own worker, not failed: the run does not use up an attempt.
    fileprivate mutating func handBack(_ event: JobEvent, at now: Date) {
        guard event.runID == job.runID, job.state.canTransition(to: .queued) else {
            return ignore("return of a run that no longer counts")
        }
        job.attempts -= 1
        job.runID = nil
        move(to: .queued, attempt: job.attempts, reason: "handed back to the queue by \(event.workerID) at shutdown",
             at: now)
    }

    /// The job's message went with its deleted queue while a worker held it: the run that was
    /// stopped, if it counted, gives back its attempt, and the job is sent again — a launch
    /// through the robot queue at once, any other job as a new message. Either supersedes the lost
    /// one, so a copy that somehow survived cannot start it twice.
    fileprivate mutating func resend(_ event: JobEvent, at now: Date) {
        let stoppedRun = event.runID == job.runID && job.state.canTransition(to: .queued)
        // Waiting for a slot on the worker: its message was the job's latest (a retry's too).
        let unstarted = [.pending, .queued, .retrying].contains(job.state)
            && event.envelopeAttempt >= job.dispatchedAttempt
        guard stoppedRun || unstarted else { return ignore("lost message of a run that no longer counts") }
        if stoppedRun {
            job.attempts -= 1
            job.runID = nil
        }
        let why = "its message went with the queue deleted while \(event.workerID) held it"
        if let account = job.account {
            effects.append(.resendLaunch(reason: why))
            effects.append(.freeAccount(account, host: event.host))
            return
        }
        job.dispatchedAttempt += 1
        move(to: .queued, attempt: job.attempts, reason: "\(why); sent again", at: now)
        effects.append(.publishRetry(waitMilliseconds: 0))
    }

    /// Notes an account's cleanup after a stopped or crashed attempt in the job's history (its
    /// state does not change) and keeps its log.
    fileprivate mutating func noteCleanup(_ event: JobEvent, at now: Date) {
        guard let outcome = event.outcome else { return ignore("cleanup event without an outcome") }
        let attempt = max(event.attempt, 1)
        effects.append(.keepCleanupLog(attempt: attempt, log: outcome.log))
        let on = "account \(event.account ?? "-") on \(event.host)"
        let reason = outcome.result == .succeeded
            ? "cleanup after attempt \(attempt) ran on \(on): \(outcome.reason)"
            : "cleanup after attempt \(attempt) failed on \(on): \(outcome.reason); the account takes no jobs "
                + "until an operator clears it"
        move(to: job.state, attempt: job.attempts, reason: reason, at: now)
    }
}
