/// A schedule (a cron trigger): starts a bot, a pipeline or a workflow at the firings of a
/// cron expression in a time zone, except on the non-working dates of a calendar, and only while
/// an active window is open.
public struct ScheduleDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var target: ScheduleTarget
    /// A 5-field cron expression or a macro (``CronExpression``).
    public var cron: String
    /// The IANA identifier of the zone whose clocks the cron and the window are read on.
    public var timeZone: String
    /// The ``WorkingDayCalendar`` whose non-working dates get no firings.
    public var calendar: String?
    /// A firing outside it starts nothing; nor does one whose run is unlikely to end before it
    /// closes (``StartDecision``).
    public var window: ActiveWindow?
    public var missedRunPolicy: MissedRunPolicy
    /// A disabled schedule keeps its settings and starts nothing.
    public var enabled: Bool

    public init(name: String, target: ScheduleTarget, cron: String, timeZone: String = "UTC", calendar: String? = nil,
                window: ActiveWindow? = nil, missedRunPolicy: MissedRunPolicy = .runOnce, enabled: Bool = true) {
        self.name = name
        self.target = target
        self.cron = cron
        self.timeZone = timeZone
        self.calendar = calendar
        self.window = window
        self.missedRunPolicy = missedRunPolicy
        self.enabled = enabled
    }

    /// `target` and `cron` are required (`name` too, unless the path names it); the time zone is
    /// UTC unless given.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ScheduleDefinition(name: "", target: .pipeline(""), cron: "")
        self.init(
            name: try container.decodeIfPresent(String.self, forKey: .name) ?? "",
            target: try container.decode(ScheduleTarget.self, forKey: .target),
            cron: try container.decode(String.self, forKey: .cron),
            timeZone: try container.decodeIfPresent(String.self, forKey: .timeZone) ?? defaults.timeZone,
            calendar: try container.decodeIfPresent(String.self, forKey: .calendar),
            window: try container.decodeIfPresent(ActiveWindow.self, forKey: .window),
            missedRunPolicy: try container.decodeIfPresent(MissedRunPolicy.self, forKey: .missedRunPolicy)
                ?? defaults.missedRunPolicy,
            enabled: try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? defaults.enabled)
    }

    public static let maximumCronLength = 256

    /// Problems that make this definition unusable, in words; empty when it is valid. Whether
    /// its target and its calendar exist is checked by the dispatcher.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(name) { problems.append("name must be a valid name") }
        problems += target.problems
        if cron.count > Self.maximumCronLength {
            problems.append("cron may have at most \(Self.maximumCronLength) characters")
        } else {
            do throws(ScheduleError) {
                _ = try CronExpression(parsing: cron)
            } catch {
                problems.append("cron: \(error)")
            }
        }
        problems += Schedule.timeZoneProblems(timeZone)
        if let calendar, !Names.isValid(calendar) { problems.append("calendar must be a valid name") }
        if let window { problems += window.problems.map { "window: \($0)" } }
        return problems
    }
}
