import Foundation

extension CronExpression {
    /// How many years ahead the search for a firing looks. A parsed expression fires well within
    /// it: the rarest, a February 29 that falls on a given day of the week (`0 0 29 2 */7`), can be
    /// 40 years apart.
    static let searchYears = 50

    /// The first firing strictly after `instant`, on the clocks of `zone`, with the
    /// daylight-saving rules of ``CronExpression``. Nil only when none falls in the next 50 years.
    public func nextFiring(after instant: Date, in zone: TimeZone) -> Date? {
        nextFiring(after: instant, in: zone) { _ in false }
    }

    /// The next `count` firings after `instant`, in order (fewer only if the search runs out).
    public func nextFirings(count: Int, after instant: Date, in zone: TimeZone) -> [Date] {
        Self.firings(count: count, after: instant) { nextFiring(after: $0, in: zone) }
    }

    /// The first firing strictly after `instant` on a date (on the clocks of `zone`) that
    /// `isSkipped` lets through.
    func nextFiring(after instant: Date, in zone: TimeZone, skipping isSkipped: (LocalDate) -> Bool) -> Date? {
        var date = LocalDate(instant, in: zone)
        let endYear = min(date.year + Self.searchYears, 9999)
        while date.year <= endYear {
            guard months.contains(date.month) else {
                date = date.firstOfNextMonth
                continue
            }
            if matches(date), !isSkipped(date), let firing = firstFiring(on: ZonedDay(date, in: zone), after: instant) {
                return firing
            }
            date = date.adding(days: 1)
        }
        return nil
    }

    /// The first instant after `instant` the expression fires at on `day` (whose date it matches).
    ///
    /// On a day whose offset does not change, wall-clock order is time order: whole hours that end
    /// before `instant` are passed over, so a search costs at most 24 + 60 instants, not a day's 1,440.
    func firstFiring(on day: ZonedDay, after instant: Date) -> Date? {
        guard !day.changesOffset else { return firings(on: day).first { $0 > instant } }
        let minuteValues = minutes.values
        guard let lastMinute = minuteValues.last else { return nil }
        for hour in hours.values where day.firstInstant(at: hour * 60 + lastMinute) > instant {
            for minute in minuteValues {
                let firing = day.firstInstant(at: hour * 60 + minute)
                if firing > instant { return firing }
            }
        }
        return nil
    }

    /// The instants the expression fires at on `day` (whose date it matches), ascending.
    func firings(on day: ZonedDay) -> [Date] {
        var firings: [Date] = []
        let minuteValues = minutes.values
        for hour in hours.values {
            for minute in minuteValues {
                if followsElapsedTime {
                    firings += day.instants(at: hour * 60 + minute)
                } else {
                    firings.append(day.firstInstant(at: hour * 60 + minute))
                }
            }
        }
        // Only a change of offset can put them out of wall-clock order (a repeated hour).
        return day.changesOffset ? firings.sorted() : firings
    }

    static func firings(count: Int, after instant: Date, next: (Date) -> Date?) -> [Date] {
        var firings: [Date] = []
        var last = instant
        while firings.count < count, let firing = next(last) {
            firings.append(firing)
            last = firing
        }
        return firings
    }
}
