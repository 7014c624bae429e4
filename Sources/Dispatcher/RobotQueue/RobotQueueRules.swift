import Foundation
import Shared

/// The robot queue's order and tries: a targeted launch keeps its place by the time it was
/// submitted, an earlier launch that an event made due has the first claim on what freed, each
/// try counts against the launch's policy and the last one gives up. It decides over the
/// entries and ``RobotQueueCheck``'s verdict; the store gathers both and writes the result.
enum RobotQueueRules {
    /// What one try of an entry leads to.
    enum Step: Equatable {
        /// Start on the account on `host`; `note` is the line for the job's history.
        case dispatch(host: String, note: String)
        /// Wait (the entry holds the reason and when it may be tried again); `entering` when the
        /// launch had not waited before, so its history gets a line.
        case wait(reason: String, entering: Bool)
        /// The launch used its last try: out of the queue and `dead` with the reason.
        case giveUp(reason: String)
    }

    /// A launch's entry; its place is the time it was submitted, also when it comes back after a
    /// dispatch. `tries` counts the tries made before.
    static func entry(for job: JobRecord, tries: Int) -> RobotQueueRecord {
        let policy = job.robotQueuePolicy ?? RobotQueuePolicy()
        return RobotQueueRecord(
            jobID: job.id!, host: job.targetHost, account: job.account!, needsUI: job.botSnapshot.needsUI,
            addedAt: job.submittedAt, attempts: tries, maxAttempts: policy.maxAttempts,
            waitSeconds: policy.waitSeconds, notBefore: job.submittedAt, due: false, reason: "")
    }

    /// One try of `entry`. A launch added later does not overtake `earlier`, an entry before it
    /// that an event made due and whose wait is not over: it waits behind it, without using a try.
    /// Otherwise the try counts, and `verdict` (asked only then) says whether the launch starts.
    static func tryToStart(_ entry: inout RobotQueueRecord, behind earlier: RobotQueueRecord?,
                           verdict: () throws -> RobotQueueCheck.Verdict, at now: Date) rethrows -> Step {
        if let earlier {
            return wait(&entry, reason: behind(earlier), due: true, notBefore: earlier.notBefore)
        }
        entry.attempts += 1
        switch try verdict() {
        case .dispatch(let host):
            let tries = entry.attempts == 1 ? "" : " after \(tries(entry.attempts)) in the robot queue"
            return .dispatch(host: host, note: "dispatched to account \(entry.account) on \(host)\(tries)")
        case .wait(let reason) where entry.attempts >= entry.maxAttempts:
            return giveUp(after: entry.attempts, last: reason)
        case .wait(let reason):
            return wait(&entry, reason: reason, due: false,
                        notBefore: now.addingTimeInterval(TimeInterval(entry.waitSeconds)))
        }
    }

    /// A synchronous launch is not queued: why it cannot start now, or nil when it may try.
    static func refusal(behind earlier: RobotQueueRecord?,
                        verdict: () throws -> RobotQueueCheck.Verdict) rethrows -> String? {
        if let earlier { return behind(earlier) }
        if case .wait(let reason) = try verdict() { return reason }
        return nil
    }

    /// A dispatched launch that could not start there comes back (the try that dispatched it
    /// counts): it waits its policy's time, `due` when the next pass may try it without an event,
    /// or gives up when that was its last try.
    static func comeBack(_ entry: inout RobotQueueRecord, reason: String, due: Bool, at now: Date) -> Step {
        guard entry.attempts < entry.maxAttempts else { return giveUp(after: entry.attempts, last: reason) }
        return wait(&entry, reason: reason, due: due,
                    notBefore: now.addingTimeInterval(TimeInterval(entry.waitSeconds)))
    }

    /// A dispatched launch whose message was lost (its account's queue was deleted with it) comes
    /// back without using the try that dispatched it, and is tried again at once.
    static func resend(_ entry: inout RobotQueueRecord, reason: String, at now: Date) -> Step {
        entry.attempts = max(entry.attempts - 1, 0)
        return wait(&entry, reason: reason, due: true, notBefore: now)
    }

    /// Why a launch waits behind an earlier one.
    static func behind(_ earlier: RobotQueueRecord) -> String {
        "behind job \(earlier.jobID), an earlier launch for account \(earlier.account) that is tried first"
    }

    private static func wait(_ entry: inout RobotQueueRecord, reason: String, due: Bool, notBefore: Date) -> Step {
        let entering = entry.reason.isEmpty
        entry.reason = reason
        entry.due = due
        entry.notBefore = notBefore
        return .wait(reason: reason, entering: entering)
    }

    private static func giveUp(after tries: Int, last reason: String) -> Step {
        .giveUp(reason: "robot queue: gave up after \(Self.tries(tries)); last: \(reason)")
    }

    private static func tries(_ count: Int) -> String { count == 1 ? "1 try" : "\(count) tries" }
}
