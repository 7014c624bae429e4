import Foundation
import Shared

extension JobLifecycle {
    /// What a report (or the broker's parking of a message) does to its job: the job as it is to be
    /// stored, the lines of its history and the rest the store writes in the same transaction.
    struct Decision {
        /// The job as it is to be stored.
        var job: JobRecord
        /// New lines of the job's history, in order; a line that keeps the state is a note.
        var history: [HistoryLine] = []
        /// What else is written, in order, after the job and its history.
        var effects: [Effect] = []
        /// Why the report leaves the job's state as it is; nil when it counts.
        var ignored: String?

        init(job: JobRecord) {
            self.job = job
        }

        /// Whether the store writes the job's row with the history: every change of a field comes
        /// with a line of history, but for a launch returned (or resent) to the robot queue, whose
        /// row the robot queue writes with its own line.
        var changesJob: Bool { !history.isEmpty }

        /// Whether the job's message goes out again: retried, or parked in `botyard.dead`.
        var publishesJob: Bool {
            effects.contains { effect in
                switch effect {
                case .parkMessage, .publishRetry: true
                default: false
                }
            }
        }

        /// Moves the job to `state` (or leaves it there, with a note) with a line of history.
        mutating func move(to state: JobState, attempt: Int, reason: String, at now: Date) {
            history.append(HistoryLine(from: job.state, to: state, attempt: attempt, reason: reason))
            job.state = state
            job.updatedAt = now
        }

        /// Makes the job dead; with `publish`, its message is parked in `botyard.dead` with the reason.
        mutating func park(reason: String, publish: Bool = true, at now: Date) {
            job.reason = reason
            job.finishedAt = now
            job.failureKind = .system
            move(to: .dead, attempt: job.attempts, reason: reason, at: now)
            if publish { effects.append(.parkMessage(reason: reason)) }
        }

        mutating func ignore(_ reason: String) {
            ignored = reason
        }
    }

    /// One state change (or note) in a job's history.
    struct HistoryLine: Equatable {
        var from: JobState
        var to: JobState
        var attempt: Int
        var reason: String

        /// Whether the line starts the job running (a rerun after a lost worker does not: the job
        /// was running already).
        var startsRun: Bool { to == .running && from != .running }
    }

    /// A write a decision asks for besides the job and its history.
    enum Effect: Equatable {
        /// Keep the log of attempt `attempt`.
        case keepLog(attempt: Int, log: String)
        /// Keep the log of the account's cleanup after attempt `attempt`.
        case keepCleanupLog(attempt: Int, log: String)
        /// Send `message` to one worker on `botyard.control`.
        case tell(ControlMessage, workerID: String)
        /// Park the job's message in `botyard.dead` with the reason.
        case parkMessage(reason: String)
        /// Publish the next attempt, through the retry queue of its wait when there is one.
        case publishRetry(waitMilliseconds: Int)
        /// A targeted launch goes back to the robot queue (its rules decide whether it waits or gives up).
        case returnToRobotQueue(reason: String)
        /// A targeted launch whose message was lost goes back to the robot queue, due at once, the
        /// try that dispatched it given back.
        case resendLaunch(reason: String)
        /// A run left `account` on `host`: the robot queue's launches waiting for it are due.
        case freeAccount(String, host: String)
    }
}
