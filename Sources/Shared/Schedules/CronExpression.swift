/// A 5-field cron expression: `minute hour day-of-month month day-of-week`, as Vixie cron
/// (crontab(5)) reads it.
///
/// Each field is `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from `a` to the
/// field's end), or a comma-separated list of those. Months may be named `JAN`–`DEC` and days
/// `SUN`–`SAT`, in any case; day-of-week 0 and 7 are both Sunday (`SAT-SUN` is 6-7). The macros
/// `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly` stand for
/// their usual expressions.
///
/// Days: when day-of-month and day-of-week are both restricted — neither starts with `*` — a
/// day matches if EITHER matches (`0 9 1 * MON` fires on the 1st and on every Monday). Otherwise
/// both must (`0 9 */2 * MON` fires on odd-numbered days that are Mondays).
///
/// Firings are wall-clock times in a time zone (``nextFiring(after:in:)``). Daylight saving
/// follows Vixie cron's rule (cron(8)):
/// - A cron with fixed hours (its hour field does not match every hour) fires at each
///   wall-clock time it names exactly once. A time the clocks skip on a spring-forward day fires
///   at the first instant after the gap: 02:30 in Europe/Berlin on 2026-03-29, and in
///   America/New_York on 2026-03-08, fires at 03:00 summer time. A time the clocks show twice on a
///   fall-back day fires at its first occurrence only: 02:30 in Berlin on 2026-10-25 at 02:30
///   summer time (00:30 UTC), 01:30 in New York on 2026-11-01 at 01:30 EDT (05:30 UTC).
/// - A cron whose hour field matches every hour (`*`, `0-23`, `*/1`) follows the time that
///   passes: nothing fires in the skipped hour, and the repeated hour fires again
///   (`*/15 * * * *` fires four times in each pass of it).
public struct CronExpression: Hashable, Sendable, CustomStringConvertible {
    /// The expression as written.
    public let text: String
    let minutes: CronValues
    let hours: CronValues
    let daysOfMonth: CronValues
    let months: CronValues
    /// Sunday is 0 (a 7 in the text is stored as 0).
    let daysOfWeek: CronValues
    /// Whether the day-of-month field does not start with `*`.
    let restrictsDayOfMonth: Bool
    /// Whether the day-of-week field does not start with `*`.
    let restrictsDayOfWeek: Bool

    init(text: String, minutes: CronValues, hours: CronValues, daysOfMonth: CronValues, months: CronValues,
         daysOfWeek: CronValues, restrictsDayOfMonth: Bool, restrictsDayOfWeek: Bool) {
        self.text = text
        self.minutes = minutes
        self.hours = hours
        self.daysOfMonth = daysOfMonth
        self.months = months
        self.daysOfWeek = daysOfWeek
        self.restrictsDayOfMonth = restrictsDayOfMonth
        self.restrictsDayOfWeek = restrictsDayOfWeek
    }

    public var description: String { text }

    /// Whether the expression fires on `date` (its month, day of month and day of week).
    public func matches(_ date: LocalDate) -> Bool {
        guard months.contains(date.month) else { return false }
        let dayOfMonth = daysOfMonth.contains(date.day)
        let dayOfWeek = daysOfWeek.contains(date.weekday.cronNumber)
        return restrictsDayOfMonth && restrictsDayOfWeek ? dayOfMonth || dayOfWeek : dayOfMonth && dayOfWeek
    }

    /// Whether the hour field matches every hour, so that firings follow elapsed time through a
    /// daylight-saving change.
    var followsElapsedTime: Bool { hours.values.count == 24 }
}

/// The values one cron field matches, as a bit set.
struct CronValues: Hashable, Sendable {
    private(set) var bits: UInt64 = 0

    init(_ values: some Sequence<Int>) {
        for value in values { insert(value) }
    }

    mutating func insert(_ value: Int) { bits |= 1 << UInt64(value) }

    func contains(_ value: Int) -> Bool { (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0 }

    /// The values, ascending.
    var values: [Int] { (0..<64).filter(contains) }
}
