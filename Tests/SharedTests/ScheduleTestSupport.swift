import Foundation

@testable import Shared

/// Fixed instants and zones for the schedule tests: every function under test takes the instant
/// it reasons about, so these are the tests' clock.
enum ScheduleClock {
    static let utc = TimeZone(identifier: "UTC")!
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// `2026-03-29T01:00:00Z`.
    static func at(_ text: String) -> Date {
        guard let date = Timestamp.parse(text) else { preconditionFailure("not an ISO-8601 time: \(text)") }
        return date
    }

    /// The instant `yyyy-MM-dd HH:mm` on the clocks of `zone` (a time that exists once).
    static func at(_ text: String, in zone: TimeZone) -> Date {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == ":" }).compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3],
                                        minute: parts[4])
        guard parts.count == 5, let date = calendar.date(from: components) else {
            preconditionFailure("not a local time: \(text)")
        }
        return date
    }

    /// `2026-03-29 03:00 +02:00`: what the clocks of `zone` show at `instant`, and their offset.
    static func local(_ instant: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        let offset = zone.secondsFromGMT(for: instant) / 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.year!)-\(two(parts.month!))-\(two(parts.day!)) \(two(parts.hour!)):\(two(parts.minute!)) "
            + "\(offset < 0 ? "-" : "+")\(two(abs(offset) / 60)):\(two(abs(offset) % 60))"
    }

    static func firings(_ cron: String, count: Int, after instant: Date, in zone: TimeZone) throws -> [Date] {
        try CronExpression(parsing: cron).nextFirings(count: count, after: instant, in: zone)
    }

    static func localFirings(_ cron: String, count: Int, after instant: Date, in zone: TimeZone) throws -> [String] {
        try firings(cron, count: count, after: instant, in: zone).map { local($0, zone) }
    }
}
