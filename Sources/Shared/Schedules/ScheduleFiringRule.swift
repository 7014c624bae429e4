import Foundation

/// What a schedule does when its dispatcher looks at it: nothing yet, or handle the firings that
/// fell due — on time, or missed while no dispatcher ran, as its ``MissedRunPolicy`` says.
///
/// A firing is *on time* when the dispatcher handles it within ``misfireThreshold`` of its
/// instant (Quartz's misfire threshold); later, it was *missed*. However many firings fell due
/// since the last one handled, at most one run starts: the newest firing stands for them all.
public enum ScheduleFiringRule {
    /// How late a firing may be handled and still count as on time.
    public static let misfireThreshold: TimeInterval = 60

    /// The most missed firings counted one by one (a schedule firing every minute, missed for
    /// 16 hours); more are reported as "1000 or more".
    public static let maximumCounted = 1_000

    /// The decision at `now` for a schedule waiting for the firing at `due`.
    /// - Parameters:
    ///   - misfireThreshold: how late a firing may be and still be on time.
    public static func decide(_ schedule: Schedule, due: Date, policy: MissedRunPolicy, at now: Date,
                              misfireThreshold: TimeInterval = misfireThreshold) -> ScheduleFiringDecision {
        guard due <= now else { return .wait(until: due) }
        var newest = due
        var previous: Date?
        var count = 1
        while count < maximumCounted, let next = schedule.nextFiring(after: newest), next <= now {
            previous = newest
            newest = next
            count += 1
        }
        let onTime = now.timeIntervalSince(newest) <= misfireThreshold
        let missed: MissedFirings? = if onTime {
            previous.map { MissedFirings(count: count - 1, first: due, last: $0) }
        } else {
            MissedFirings(count: count, first: due, last: newest)
        }
        return .handle(DueFiring(scheduledFor: newest, missed: missed, onTime: onTime,
                                 startsRun: onTime || policy == .runOnce,
                                 next: schedule.nextFiring(after: max(newest, now))))
    }
}

/// What ``ScheduleFiringRule`` decided.
public enum ScheduleFiringDecision: Sendable, Equatable {
    /// Nothing is due before this instant.
    case wait(until: Date)
    case handle(DueFiring)
}

/// The firing a dispatcher handles now, standing for every firing that fell due since the last.
public struct DueFiring: Sendable, Equatable {
    /// The newest firing that fell due: the one recorded, and the instant its lateness counts from.
    public var scheduledFor: Date
    /// Firings that fell due and start no run of their own; nil when there were none.
    public var missed: MissedFirings?
    /// Whether `scheduledFor` is handled within the misfire threshold.
    public var onTime: Bool
    /// Whether a run starts (on time, or missed under `runOnce`), subject to the schedule's window.
    public var startsRun: Bool
    /// The firing after this one, which the schedule waits for next; nil if it never fires again.
    public var next: Date?

    public init(scheduledFor: Date, missed: MissedFirings?, onTime: Bool, startsRun: Bool, next: Date?) {
        self.scheduledFor = scheduledFor
        self.missed = missed
        self.onTime = onTime
        self.startsRun = startsRun
        self.next = next
    }

    /// Why this firing starts a run or not, in words, before the window has its say.
    public var reason: String {
        guard let missed else { return "on time" }
        switch (onTime, startsRun) {
        case (true, _):
            return "on time; \(missed) before it, while no dispatcher ran, start nothing of their own"
        case (false, true):
            return "\(missed) while no dispatcher ran: one run for them (missed-run policy runOnce)"
        case (false, false):
            return "\(missed) while no dispatcher ran: skipped (missed-run policy skip)"
        }
    }
}

/// Firings that fell due while no dispatcher ran.
public struct MissedFirings: Sendable, Equatable, CustomStringConvertible {
    /// How many (at most ``ScheduleFiringRule/maximumCounted``).
    public var count: Int
    public var first: Date
    public var last: Date

    public init(count: Int, first: Date, last: Date) {
        self.count = count
        self.first = first
        self.last = last
    }

    /// `1 firing missed (at 2026-12-02T07:00:00Z)`, `3 firings missed (2026-… to 2026-…)`.
    public var description: String {
        let many = count >= ScheduleFiringRule.maximumCounted ? "\(count) or more" : "\(count)"
        return count == 1
            ? "1 firing missed (at \(Timestamp.format(first)))"
            : "\(many) firings missed (\(Timestamp.format(first)) to \(Timestamp.format(last)))"
    }
}
