import Foundation

/// Whether a scheduled run starts now, judged against its active window and the bot's measured
/// run times: a run that is unlikely to finish before the window closes is not started.
///
/// "Unlikely" is the 90th percentile of the recent run times, by the nearest-rank method (the
/// smallest time that at least 90% of the runs took no longer than; no interpolation), so with
/// fewer than ten runs it is the longest. With fewer than ``minimumRuns`` measured runs there is
/// no judgement, and the run starts.
public struct StartDecision: Codable, Sendable, Equatable {
    public var starts: Bool
    /// Why it does not start.
    public var reason: String?
    /// The 90th percentile of the run times, in seconds, when there were enough to judge.
    public var p90RunSeconds: Double?
    /// When the window closes, if the instant was inside one.
    public var windowClosesAt: Date?

    public init(starts: Bool, reason: String? = nil, p90RunSeconds: Double? = nil, windowClosesAt: Date? = nil) {
        self.starts = starts
        self.reason = reason
        self.p90RunSeconds = p90RunSeconds
        self.windowClosesAt = windowClosesAt
    }

    public static let minimumRuns = 3

    /// The decision at `instant` for a run with `window` (none: any time will do).
    /// - Parameters:
    ///   - zone: the schedule's time zone, whose clocks the window is read on.
    ///   - recentRunTimes: how long the bot's recent runs took, in seconds (the caller picks how many).
    public static func decide(at instant: Date, in zone: TimeZone, window: ActiveWindow?,
                              recentRunTimes: [TimeInterval]) -> StartDecision {
        guard let window else { return StartDecision(starts: true) }
        guard window.contains(instant, in: zone) else {
            return StartDecision(starts: false, reason: "outside its active window (\(window))")
        }
        let closes = window.closes(after: instant, in: zone)
        guard let p90 = percentile90(recentRunTimes) else {
            return StartDecision(starts: true, windowClosesAt: closes)
        }
        guard let closes, instant.addingTimeInterval(p90) > closes else {
            return StartDecision(starts: true, p90RunSeconds: p90, windowClosesAt: closes)
        }
        // The run time rounds up and the time left down, so the words agree with the decision.
        let left = closes.timeIntervalSince(instant)
        return StartDecision(
            starts: false,
            reason: "unlikely to finish before its window closes (p90 run time \(Self.text(p90, .up)), "
                + "window closes in \(Self.text(left, .down)))",
            p90RunSeconds: p90, windowClosesAt: closes)
    }

    /// The nearest-rank 90th percentile of `runTimes`; nil for fewer than ``minimumRuns``.
    public static func percentile90(_ runTimes: [TimeInterval]) -> TimeInterval? {
        guard runTimes.count >= minimumRuns else { return nil }
        let sorted = runTimes.sorted()
        let rank = (9 * sorted.count + 9) / 10  // ⌈0.9 n⌉ without floating-point error
        return sorted[rank - 1]
    }

    /// `40 s`, `45 min`, `2 h 5 min`.
    static func text(_ seconds: TimeInterval, _ rounding: FloatingPointRoundingRule) -> String {
        if seconds < 60 { return "\(Int(max(0, seconds).rounded(rounding))) s" }
        let minutes = Int((seconds / 60).rounded(rounding))
        if minutes < 60 { return "\(minutes) min" }
        return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
    }
}
