import Foundation
import Logging
import Shared

extension JobWorker {
    /// Runs the account's cleanup after a stopped or killed run, reports it in the job's history, and
    /// holds the account when it fails. Nothing starts on the account meanwhile (the caller began a
    /// cleanup in the gate).
    func cleanUp(after cleanup: PendingCleanup, pid: pid_t, account: String, why: String) async {
        // A failure holds the account (file and gate together) before anything is reported.
        await runCleanup(cleanup, account: account, why: why)
        orphans.forget(pid: pid, account: account)
        gate.endCleanup(account: account)
    }

    /// Runs the cleanups that a dead predecessor's runs owe the account, before it consumes: the worker
    /// that took the account over (or this one, restarted). The first that fails holds the account.
    func cleanUp(_ orphans: [OrphanReaper.Orphan], account: String) async {
        for orphan in orphans {
            guard let cleanup = orphan.cleanup else { continue }
            let why = orphan.killed
                ? "its worker was lost while the bot ran; the bot was killed when the account was taken over"
                : "its worker was lost before the account's cleanup ran"
            // Not cut short should the connection break meanwhile (see `cleanUpIfNeeded`).
            guard await Task(operation: { await self.runCleanup(cleanup, account: account, why: why) }).value
            else { return }
        }
    }

    private var orphans: OrphanReaper { runner.orphans }

    /// Runs one cleanup and reports it; on failure the account is held (persisted) with the reason.
    /// - Returns: whether it succeeded.
    @discardableResult
    func runCleanup(_ cleanup: PendingCleanup, account: String, why: String) async -> Bool {
        var metadata: Logger.Metadata = ["job.id": "\(cleanup.jobID)", "job.attempt": "\(cleanup.attempt)",
                                         "bot.name": "\(cleanup.bot)", "bot.account": "\(account)"]
        logger.info("account cleanup started", metadata: metadata)
        let outcome = await runner.runCleanup(cleanup, account: account, why: why)
        metadata["cleanup.result"] = "\(outcome.result.rawValue)"
        if outcome.result != .succeeded {
            let reason = "cleanup failed: \(outcome.reason) (after job \(cleanup.jobID), attempt \(cleanup.attempt))"
            holds.hold(account, reason: reason)
            logger.error("account cleanup failed; the account takes no jobs until an operator clears it",
                         metadata: metadata)
        } else {
            logger.info("account cleanup done", metadata: metadata)
        }
        let event = JobEvent(kind: .cleanedUp, jobID: cleanup.jobID, attempt: cleanup.attempt,
                             envelopeAttempt: cleanup.envelopeAttempt, runID: cleanup.runID,
                             workerID: configuration.workerID, host: configuration.host, account: account,
                             outcome: outcome)
        // Not tied to a delivery: tried for a while, then given up (the hold itself is in the heartbeats).
        let until = ContinuousClock.now + .seconds(30)
        do {
            try await events.publish(event, keepTrying: { ContinuousClock.now < until })
        } catch {
            logger.warning("cleanup not reported", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
        return outcome.result == .succeeded
    }
}
