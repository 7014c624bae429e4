import Foundation

/// One date on a time zone's clocks, and the instants its wall-clock times fall on: where the
/// daylight-saving rules of schedules and windows live.
///
/// On most days every wall-clock time happens once. On a spring-forward day the clocks skip
/// some (02:00–02:59 in Berlin on the last Sunday of March); on a fall-back day they show some
/// twice (02:00–02:59 in Berlin on the last Sunday of October). Offsets come from Foundation's
/// `TimeZone` (the system's tz database).
struct ZonedDay {
    let date: LocalDate
    let zone: TimeZone
    private let startInUTC: Date
    /// Seconds from GMT a day before the date starts, and a day after it ends: they differ on a
    /// day whose offset changes. (No zone changes its offset twice within three days.)
    private let offsetBefore: Int
    private let offsetAfter: Int

    init(_ date: LocalDate, in zone: TimeZone) {
        self.date = date
        self.zone = zone
        startInUTC = date.startInUTC
        offsetBefore = zone.secondsFromGMT(for: startInUTC.addingTimeInterval(-86_400))
        offsetAfter = zone.secondsFromGMT(for: startInUTC.addingTimeInterval(2 * 86_400))
    }

    /// Whether the zone's offset changes on (or right around) this date.
    var changesOffset: Bool { offsetBefore != offsetAfter }

    /// Every instant the clocks show `minuteOfDay` on this date, earliest first: none when they
    /// skip it, two when they show it twice. 1440 is midnight at the end of the date.
    func instants(at minuteOfDay: Int) -> [Date] {
        let wallClockAsUTC = startInUTC.addingTimeInterval(Double(minuteOfDay) * 60)
        guard changesOffset else { return [wallClockAsUTC.addingTimeInterval(Double(-offsetBefore))] }
        let instants = [offsetAfter, offsetBefore].compactMap { offset -> Date? in
            let instant = wallClockAsUTC.addingTimeInterval(Double(-offset))
            return zone.secondsFromGMT(for: instant) == offset ? instant : nil
        }
        return instants.count == 2 && instants[0] > instants[1] ? instants.reversed() : instants
    }

    /// The first instant the clocks show `minuteOfDay` on this date; for a time they skip, the
    /// first instant after the gap (02:30 on a spring-forward day in Berlin → 03:00 summer time).
    func firstInstant(at minuteOfDay: Int) -> Date {
        guard changesOffset else {
            return startInUTC.addingTimeInterval(Double(minuteOfDay) * 60 - Double(offsetBefore))
        }
        if let first = instants(at: minuteOfDay).first { return first }
        // In the gap the clocks jump forward: the wall-clock time read with the new offset is
        // before the change, read with the old one after it. The change is between.
        let wallClockAsUTC = startInUTC.addingTimeInterval(Double(minuteOfDay) * 60)
        var before = wallClockAsUTC.addingTimeInterval(Double(-offsetAfter)).timeIntervalSince1970
        var after = wallClockAsUTC.addingTimeInterval(Double(-offsetBefore)).timeIntervalSince1970
        while after - before > 1 {
            let middle = ((before + after) / 2).rounded(.down)
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: middle)) == offsetBefore {
                before = middle
            } else {
                after = middle
            }
        }
        return Date(timeIntervalSince1970: after)
    }
}
