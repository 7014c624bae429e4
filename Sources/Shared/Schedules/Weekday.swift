/// A day of the week, numbered and ordered as ISO 8601 has it: Monday first.
public enum Weekday: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    /// Cron's number for the day: Sunday is 0 (cron also reads 7 as Sunday).
    public var cronNumber: Int { self == .sunday ? 0 : rawValue }

    /// The day with cron's number (0 and 7 are Sunday).
    public init?(cronNumber: Int) {
        guard (0...7).contains(cronNumber) else { return nil }
        self.init(rawValue: cronNumber == 0 ? 7 : cronNumber)
    }

    /// The day with Foundation's number (`Calendar.Component.weekday`: 1 is Sunday).
    init(foundationWeekday: Int) {
        self = Weekday(cronNumber: foundationWeekday - 1) ?? .sunday
    }

    /// `Mon`, `Tue`…
    public var abbreviation: String { String(Self.names[rawValue - 1].prefix(3)) }
    public var description: String { abbreviation }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The day named `name`: `mon`…`sun` or the full English name, in any case.
    public init?(name: some StringProtocol) {
        let name = name.lowercased()
        guard let index = Self.names.firstIndex(where: { $0.lowercased() == name || $0.prefix(3).lowercased() == name })
        else { return nil }
        self = Weekday.allCases[index]
    }

    private static let names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
}

/// Encoded as `mon`…`sun`; decoded from those or the full English names, in any case.
extension Weekday: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let day = Weekday(name: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text.prefix(64))' is not a day of the week (mon-sun)")
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(abbreviation.lowercased())
    }
}
