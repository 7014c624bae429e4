/// A named list of non-working dates (public holidays, closing days) that schedules share: a
/// schedule naming the calendar does not fire on them.
public struct WorkingDayCalendar: Codable, Sendable, Equatable {
    public var name: String
    /// Dates without firings, each read on the clocks of the schedule's own time zone; ascending.
    public var nonWorkingDates: [LocalDate]

    public init(name: String, nonWorkingDates: some Sequence<LocalDate> = []) {
        self.name = name
        self.nonWorkingDates = Set(nonWorkingDates).sorted()
    }

    /// `nonWorkingDates` may be left out; each must be a `yyyy-MM-dd` date that exists.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try container.decode(String.self, forKey: .name),
                  nonWorkingDates: try container.decodeIfPresent([LocalDate].self, forKey: .nonWorkingDates) ?? [])
    }

    public static let maximumDates = 10_000

    /// Problems that make this calendar unusable, in words; empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(name) { problems.append("name must be a valid name") }
        if nonWorkingDates.count > Self.maximumDates {
            problems.append("a calendar may have at most \(Self.maximumDates) non-working dates")
        }
        return problems
    }

    public func isWorkingDay(_ date: LocalDate) -> Bool { !nonWorkingDates.contains(date) }
}
