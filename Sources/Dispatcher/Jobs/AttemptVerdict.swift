import Shared

/// What the dispatcher does after an attempt ended.
enum AttemptVerdict: Equatable, Sendable {
    case succeeded
    /// Another attempt, after a wait (already rounded to a retry queue's delay).
    case retry(waitMilliseconds: Int, reason: String)
    /// No attempt left: park the job in `botyard.dead`.
    case dead(reason: String)
    case cancelled(reason: String)
    /// The bot declared a business exception: the job fails (`failed`, kind business), never retried.
    case businessException(reason: String)

    /// Judges a finished attempt by its outcome and the job's retry policy.
    ///
    /// - Parameter random: a number in `0..<1` placing the backoff's jitter.
    static func judge(_ outcome: JobOutcome, attempt: Int, policy: RetryPolicy, random: Double) -> AttemptVerdict {
        switch outcome.result {
        case .succeeded:
            return .succeeded
        case .cancelled:
            return .cancelled(reason: outcome.reason)
        case .businessException:
            return .businessException(reason: "business exception: \(outcome.reason)")
        case .failed, .timedOut, .failedToStart:
            guard policy.allowsAnotherAttempt(after: attempt) else {
                return .dead(reason: "attempts exhausted (\(attempt) of \(policy.maxAttempts)); last: \(outcome.reason)")
            }
            let wait = RetryDelay.bucket(forMilliseconds: policy.waitMilliseconds(after: attempt, random: random))
            return .retry(waitMilliseconds: wait, reason: "attempt \(attempt) failed: \(outcome.reason)")
        }
    }
}
