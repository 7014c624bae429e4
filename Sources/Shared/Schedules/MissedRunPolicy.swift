/// What a schedule does about the firings it missed while the dispatcher was not running.
///
/// Firings missed while the schedule was disabled are not made up under either policy, and
/// firings on non-working dates are not firings at all.
public enum MissedRunPolicy: String, Codable, Sendable, CaseIterable {
    /// One run for all the firings missed, started when the dispatcher is back — subject, like
    /// any run, to the active window and the start decision at that moment. Then the schedule goes
    /// on with its next firing on time. (Quartz's "fire once now" for cron triggers.)
    case runOnce
    /// The missed firings are dropped: the next run is the next firing on time.
    case skip
}
