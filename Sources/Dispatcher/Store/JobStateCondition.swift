import Shared

/// SQL conditions on a job's `state`, written `(state = … OR state = …)` rather than
/// `state IN (…)`: SQLite (3.40) tests a list of more than two constants through a temporary
/// b-tree it builds on every run of the statement. In the WHERE of a partial index on `jobs` that
/// was every insert and every change of a job's state: four such trees for an update, 30 µs
/// against 19 without them. (Two constants it compares one by one: `jobs_running_on` keeps its
/// `state IN ('running', 'paused')`.)
///
/// A query that should search a partial index says its condition in the same words as the
/// index's WHERE (``waiting`` for `jobs_dispatched_to`, ``live`` for `jobs_trigger_live`):
/// SQLite matches the two expressions term by term.
enum JobStateCondition {
    /// Queued for a worker, or waiting to be: `jobs_dispatched_to`'s condition on the state (its other
    /// term, `dispatchHost IS NOT NULL`, follows from any comparison of `dispatchHost`).
    static let waiting = anyOf([.pending, .queued, .retrying])
    /// Waiting or started, not ended: `jobs_trigger_live`'s condition.
    static let live = anyOf([.pending, .queued, .retrying, .running, .paused])

    /// `(state = 'a' OR state = 'b' …)`.
    static func anyOf(_ states: [JobState]) -> String {
        "(" + states.map { "state = '\($0.rawValue)'" }.joined(separator: " OR ") + ")"
    }
}
