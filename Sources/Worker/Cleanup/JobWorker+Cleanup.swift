import Foundation
import Logging
import Shared

extension JobWorker {
    /// Runs the account's cleanup after a stopped or killed run, reports it in the job's history, and
    /// holds the account when it fails. Nothing starts on the account meanwhile (the caller told the gate
    /// that the run owes a cleanup), and it waits until no other bot runs there: resetting the desktop
    /// must not kill a bot that is still running.
    func cleanUp(after cleanup: PendingCleanup, pid: pid_t, account: String, why: String) async {
        await gate.waitForCleanupTurn(account: account)
        defer { gate.endCleanup(account: account) }
        if let hold = holds.reason(of: account) {
            // Another cleanup failed meanwhile: the account's session waits for an operator as it is. The run
            // stays recorded, so its cleanup runs after the clear, before the account consumes again.
            logger.warning("account held: the cleanup this run owes runs after the hold is cleared", metadata: [
                "job.id": "\(cleanup.jobID)", "bot.account": "\(account)", "account.hold": "\(hold)",
            ])
            return
        }
        // A failure holds the account (file and gate together) before anything is reported.
        await runCleanup(cleanup, account: account, why: why, run: pid)
        orphans.forget(pid: pid, account: account)
    }

    /// Runs the cleanups that recorded runs owe the account, before it consumes: runs of a dead predecessor
    /// (this worker took the account over, or restarted), or of this worker while the account was held. The
    /// first that fails holds the account; the others stay recorded and run after the clear.
    ///
    /// - Returns: false when one failed.
    func cleanUp(_ orphans: [OrphanReaper.Orphan], account: String) async -> Bool {
        await self.orphans.runOwedCleanups(orphans, account: account) { orphan, cleanup in
            let why = if orphan.killed {
                "its worker was lost while the bot ran; the bot was killed when the account was taken over"
            } else if orphan.killedCleanup != nil {
                "its worker was lost during the account's cleanup; that cleanup was killed and runs again"
            } else {
                "its worker was lost, or the account was held, before the account's cleanup ran"
            }
            // Not cut short should the connection break meanwhile (see `cleanUpIfNeeded`).
            return await Task { await self.runCleanup(cleanup, account: account, why: why, run: orphan.pid) }.value
        }
    }

    private var orphans: OrphanReaper { runner.orphans }

    /// Runs one cleanup and reports it; on failure the account is held (persisted) with the reason.
    /// - Returns: whether it succeeded.
    @discardableResult
    func runCleanup(_ cleanup: PendingCleanup, account: String, why: String, run: pid_t) async -> Bool {
        var metadata: Logger.Metadata = ["job.id": "\(cleanup.jobID)", "job.attempt": "\(cleanup.attempt)",
                                         "bot.name": "\(cleanup.bot)", "bot.account": "\(account)"]
        logger.info("account cleanup started", metadata: metadata)
        let outcome = await runner.runCleanup(cleanup, account: account, why: why, run: run)
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
