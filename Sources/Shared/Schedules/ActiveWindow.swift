import Foundation

/// When a schedule may start runs: on some days of the week, between two wall-clock times
/// (`Mon–Fri 08:00–18:00`).
///
/// A window whose end is not after its start crosses midnight: `22:00–06:00` on Mon–Fri opens
/// on Monday at 22:00 and closes on Tuesday at 06:00, …, the last from Friday night to Saturday.
/// `24:00` ends a window at midnight, so `00:00–24:00` is the whole day. Windows that follow
/// each other without a gap (`00:00–24:00` on Mon–Fri) are one long window.
///
/// Opening and closing times follow the schedules' daylight-saving rule: a time the clocks skip
/// is at the end of the gap, a time they show twice is at its first occurrence.
public struct ActiveWindow: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The days it opens on, Monday first.
    public var days: [Weekday]
    public var start: LocalTime
    public var end: LocalTime

    public init(days: some Sequence<Weekday>, start: LocalTime, end: LocalTime) {
        self.days = Set(days).sorted()
        self.start = start
        self.end = end
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(days: try container.decode([Weekday].self, forKey: .days),
                  start: try container.decode(LocalTime.self, forKey: .start),
                  end: try container.decode(LocalTime.self, forKey: .end))
    }

    /// Problems that make this window unusable, in words (a window that never opens is one);
    /// empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if days.isEmpty { problems.append("never opens: it has no days") }
        if start == .endOfDay { problems.append("start must be between 00:00 and 23:59") }
        if start == end { problems.append("never opens: it starts and ends at \(start)") }
        return problems
    }

    /// Whether `instant` is inside the window, on the clocks of `zone`.
    public func contains(_ instant: Date, in zone: TimeZone) -> Bool {
        opening(around: instant, in: zone) != nil
    }

    /// When the window `instant` is in closes (on the clocks of `zone`); nil when `instant` is
    /// outside the window — or when it never closes, being open around the clock.
    public func closes(after instant: Date, in zone: TimeZone) -> Date? {
        guard var current = opening(around: instant, in: zone) else { return nil }
        for _ in 0..<7 {
            guard let next = opening(on: current.closingDate, in: zone), next.opens == current.closes else {
                return current.closes
            }
            current = next
        }
        return nil
    }

    /// `Mon–Fri 08:00–18:00`; days in runs of three or more are ranges (`Mon, Wed–Fri`).
    public var description: String {
        var runs: [[Weekday]] = []
        for day in days {
            if let last = runs.last?.last, last.rawValue + 1 == day.rawValue {
                runs[runs.count - 1].append(day)
            } else {
                runs.append([day])
            }
        }
        let dayText = runs.map { run in
            run.count >= 3 ? "\(run[0])–\(run[run.count - 1])" : run.map(\.description).joined(separator: ", ")
        }.joined(separator: ", ")
        return "\(dayText) \(start)–\(end)"
    }

    /// One opening of the window: from a day's start time to the end time, that day or the next.
    private struct Opening {
        var opens: Date
        var closes: Date
        /// The date it closes on, where the next opening may begin.
        var closingDate: LocalDate
    }

    /// The opening that contains `instant`: one that began on its date or the day before.
    private func opening(around instant: Date, in zone: TimeZone) -> Opening? {
        guard !days.isEmpty, start != end, start != .endOfDay else { return nil }  // it never opens
        let today = LocalDate(instant, in: zone)
        return [today.adding(days: -1), today].lazy.compactMap { opening(on: $0, in: zone) }
            .first { $0.opens <= instant && instant < $0.closes }
    }

    /// The opening that begins on `date`, if the window opens that day.
    private func opening(on date: LocalDate, in zone: TimeZone) -> Opening? {
        guard days.contains(date.weekday) else { return nil }
        let closingDate = end <= start || end == .endOfDay ? date.adding(days: 1) : date
        let closingMinute = end == .endOfDay ? 0 : end.minuteOfDay
        return Opening(opens: ZonedDay(date, in: zone).firstInstant(at: start.minuteOfDay),
                       closes: ZonedDay(closingDate, in: zone).firstInstant(at: closingMinute),
                       closingDate: closingDate)
    }
}
