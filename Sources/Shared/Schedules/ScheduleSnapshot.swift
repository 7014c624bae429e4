import Foundation

/// A schedule as the API shows it: its definition, whether it runs, and its next firings.
public struct ScheduleSnapshot: Codable, Sendable {
    public var definition: ScheduleDefinition
    /// The next five firings on the clocks of its zone; empty while it is paused.
    public var nextFirings: [ZonedInstant]
    public var lastFiring: ScheduleFiring?
    public var createdAt: Date
    public var updatedAt: Date

    public init(definition: ScheduleDefinition, nextFirings: [ZonedInstant], lastFiring: ScheduleFiring?,
                createdAt: Date, updatedAt: Date) {
        self.definition = definition
        self.nextFirings = nextFirings
        self.lastFiring = lastFiring
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// How many firings ahead a snapshot shows.
    public static let shownFirings = 5
}

/// An instant with what the clocks of a zone show at it: `2026-03-29T03:00:00+02:00`.
public struct ZonedInstant: Codable, Sendable, Equatable {
    public var at: Date
    /// ISO 8601 local time with the zone's offset at that instant.
    public var local: String

    public init(_ instant: Date, in zone: TimeZone) {
        at = instant
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        local = formatter.string(from: instant)
    }
}
