import Foundation
import Testing

@testable import Shared

@Suite("Cron firings")
struct CronFiringTests {
    typealias Clock = ScheduleClock

    // MARK: - UTC

    @Test("*/15 fires on the quarter hours after the instant")
    func quarterHours() throws {
        #expect(try Clock.firings("*/15 * * * *", count: 5, after: Clock.at("2026-01-01T10:07:30Z"), in: Clock.utc)
            == ["10:15", "10:30", "10:45", "11:00", "11:15"].map { Clock.at("2026-01-01T\($0):00Z") })
    }

    @Test("the next firing is strictly after the instant, even when the instant is a firing")
    func strictlyAfter() throws {
        let cron = try CronExpression(parsing: "0 9 * * *")
        #expect(cron.nextFiring(after: Clock.at("2026-01-01T09:00:00Z"), in: Clock.utc)
            == Clock.at("2026-01-02T09:00:00Z"))
        #expect(cron.nextFiring(after: Clock.at("2026-01-01T08:59:59.999Z"), in: Clock.utc)
            == Clock.at("2026-01-01T09:00:00Z"))
    }

    @Test("MON-FRI skips the weekend")
    func weekdays() throws {
        // 2026-01-02 is a Friday.
        #expect(try Clock.firings("0 9 * * MON-FRI", count: 2, after: Clock.at("2026-01-02T09:00:00Z"), in: Clock.utc)
            == [Clock.at("2026-01-05T09:00:00Z"), Clock.at("2026-01-06T09:00:00Z")])
    }

    @Test("day 31 skips the months without one")
    func thirtyFirst() throws {
        #expect(try Clock.firings("0 0 31 * *", count: 5, after: Clock.at("2026-01-31T00:00:00Z"), in: Clock.utc)
            == ["03", "05", "07", "08", "10"].map { Clock.at("2026-\($0)-31T00:00:00Z") })
    }

    @Test("a February 29 schedule fires only on leap days: 2028, then 2032")
    func leapDay() throws {
        #expect(try Clock.firings("0 9 29 2 *", count: 2, after: Clock.at("2026-06-01T00:00:00Z"), in: Clock.utc)
            == [Clock.at("2028-02-29T09:00:00Z"), Clock.at("2032-02-29T09:00:00Z")])
    }

    @Test("a February 29 schedule skips 2100, which is not a leap year")
    func centuryIsNotLeap() throws {
        #expect(try Clock.firings("0 0 29 2 *", count: 2, after: Clock.at("2097-01-01T00:00:00Z"), in: Clock.utc)
            == [Clock.at("2104-02-29T00:00:00Z"), Clock.at("2108-02-29T00:00:00Z")])
    }

    @Test("the last day of February is the 29th in a leap year")
    func endOfFebruary() throws {
        #expect(try Clock.firings("0 12 28,29 2 *", count: 3, after: Clock.at("2027-02-01T00:00:00Z"), in: Clock.utc)
            == [Clock.at("2027-02-28T12:00:00Z"), Clock.at("2028-02-28T12:00:00Z"), Clock.at("2028-02-29T12:00:00Z")])
    }

    @Test("both day fields restricted: a day matches if EITHER does (the 1st, and every Monday)")
    func eitherDayField() throws {
        // January 2026: Mondays are the 5th, 12th, 19th, 26th; February 1st is a Sunday.
        #expect(try Clock.firings("0 9 1 * MON", count: 6, after: Clock.at("2026-01-01T09:00:00Z"), in: Clock.utc)
            == ["01-05", "01-12", "01-19", "01-26", "02-01", "02-02"].map { Clock.at("2026-\($0)T09:00:00Z") })
    }

    @Test("a day field starting with * is not restricted: both must match (odd days that are Mondays)")
    func bothDayFields() throws {
        #expect(try Clock.firings("0 9 */2 * MON", count: 3, after: Clock.at("2026-01-01T09:00:00Z"), in: Clock.utc)
            == ["01-05", "01-19", "02-09"].map { Clock.at("2026-\($0)T09:00:00Z") })
    }

    @Test("7 is Sunday, and SAT-SUN is the weekend")
    func sundays() throws {
        #expect(try Clock.firings("0 9 * * 7", count: 1, after: Clock.at("2026-01-01T00:00:00Z"), in: Clock.utc)
            == [Clock.at("2026-01-04T09:00:00Z")])
        #expect(try Clock.firings("0 9 * * SAT-SUN", count: 3, after: Clock.at("2026-01-01T00:00:00Z"), in: Clock.utc)
            == ["03", "04", "10"].map { Clock.at("2026-01-\($0)T09:00:00Z") })
    }

    @Test("@yearly fires at midnight on January 1")
    func yearly() throws {
        #expect(try Clock.firings("@yearly", count: 2, after: Clock.at("2026-01-01T00:00:00Z"), in: Clock.utc)
            == [Clock.at("2027-01-01T00:00:00Z"), Clock.at("2028-01-01T00:00:00Z")])
    }

    @Test("a zone's wall clock: 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer")
    func wallClock() throws {
        #expect(try Clock.firings("0 9 1 1,7 *", count: 2, after: Clock.at("2026-01-01T00:00:00Z"), in: Clock.berlin)
            == [Clock.at("2026-01-01T08:00:00Z"), Clock.at("2026-07-01T07:00:00Z")])
    }

    @Test("the day of the week is the zone's: Sunday 23:30 in New York, Monday in UTC, is no Monday firing")
    func localDate() throws {
        // 2026-01-04 is a Sunday: Sunday 23:30 in New York is Monday 04:30 UTC, and is no Monday firing.
        #expect(try Clock.firings("30 23 * * MON", count: 1, after: Clock.at("2026-01-04T00:00:00Z"),
                                  in: Clock.newYork) == [Clock.at("2026-01-06T04:30:00Z")])
    }

    // MARK: - Spring forward: a skipped time runs once, when the clocks have jumped

    @Test("Berlin, 2026-03-29: 02:30 does not exist and runs once at 03:00 summer time")
    func berlinSpringForward() throws {
        #expect(try Clock.localFirings("30 2 * * *", count: 3, after: Clock.at("2026-03-28T12:00:00Z"),
                                       in: Clock.berlin)
            == ["2026-03-29 03:00 +02:00", "2026-03-30 02:30 +02:00", "2026-03-31 02:30 +02:00"])
        #expect(try Clock.firings("30 2 * * *", count: 1, after: Clock.at("2026-03-28T12:00:00Z"), in: Clock.berlin)
            == [Clock.at("2026-03-29T01:00:00Z")])
    }

    @Test("New York, 2026-03-08: 02:30 does not exist and runs once at 03:00 EDT")
    func newYorkSpringForward() throws {
        #expect(try Clock.localFirings("30 2 * * *", count: 2, after: Clock.at("2026-03-07T12:00:00Z"),
                                       in: Clock.newYork)
            == ["2026-03-08 03:00 -04:00", "2026-03-09 02:30 -04:00"])
        #expect(try Clock.firings("30 2 * * *", count: 1, after: Clock.at("2026-03-07T12:00:00Z"), in: Clock.newYork)
            == [Clock.at("2026-03-08T07:00:00Z")])
    }

    @Test("several skipped times, and a 03:00 of the cron's own, make one firing at 03:00")
    func skippedTimesShareOneFiring() throws {
        #expect(try Clock.localFirings("*/20 2,3 * * *", count: 4, after: Clock.at("2026-03-28T23:00:00Z"),
                                       in: Clock.berlin)
            == ["2026-03-29 03:00 +02:00", "2026-03-29 03:20 +02:00", "2026-03-29 03:40 +02:00",
                "2026-03-30 02:00 +02:00"])
    }

    // MARK: - Fall back: a repeated time runs once, at its first occurrence

    @Test("Berlin, 2026-10-25: 02:30 happens twice and runs once, in summer time (00:30 UTC)")
    func berlinFallBack() throws {
        #expect(try Clock.firings("30 2 * * *", count: 2, after: Clock.at("2026-10-24T12:00:00Z"), in: Clock.berlin)
            == [Clock.at("2026-10-25T00:30:00Z"), Clock.at("2026-10-26T01:30:00Z")])
        #expect(try Clock.localFirings("30 2 * * *", count: 2, after: Clock.at("2026-10-24T12:00:00Z"),
                                       in: Clock.berlin)
            == ["2026-10-25 02:30 +02:00", "2026-10-26 02:30 +01:00"])
    }

    @Test("New York, 2026-11-01: 01:30 happens twice and runs once, at 01:30 EDT (05:30 UTC)")
    func newYorkFallBack() throws {
        #expect(try Clock.firings("30 1 * * *", count: 2, after: Clock.at("2026-10-31T12:00:00Z"), in: Clock.newYork)
            == [Clock.at("2026-11-01T05:30:00Z"), Clock.at("2026-11-02T06:30:00Z")])
        // Asked from inside the second pass of 01:00-01:59, it does not fire again that day.
        #expect(try Clock.firings("30 1 * * *", count: 1, after: Clock.at("2026-11-01T06:10:00Z"), in: Clock.newYork)
            == [Clock.at("2026-11-02T06:30:00Z")])
    }

    @Test("fixed hours with frequent minutes: the repeated hour's second pass does not fire again")
    func fixedHourRepeatedOnce() throws {
        #expect(try Clock.localFirings("*/30 2 * * *", count: 3, after: Clock.at("2026-10-24T23:00:00Z"),
                                       in: Clock.berlin)
            == ["2026-10-25 02:00 +02:00", "2026-10-25 02:30 +02:00", "2026-10-26 02:00 +01:00"])
    }

    // MARK: - Every hour: firings follow the time that passes

    @Test("every hour, Berlin spring forward: the skipped hour has no firing and nothing is made up")
    func hourlySpringForward() throws {
        #expect(try Clock.localFirings("30 * * * *", count: 3, after: Clock.at("2026-03-29T00:00:00Z"),
                                       in: Clock.berlin)
            == ["2026-03-29 01:30 +01:00", "2026-03-29 03:30 +02:00", "2026-03-29 04:30 +02:00"])
    }

    @Test("every 30 minutes, Berlin fall back: both passes of the repeated hour fire")
    func halfHourlyFallBack() throws {
        #expect(try Clock.firings("*/30 * * * *", count: 5, after: Clock.at("2026-10-24T23:45:00Z"), in: Clock.berlin)
            == ["00:00", "00:30", "01:00", "01:30", "02:00"].map { Clock.at("2026-10-25T\($0):00Z") })
        #expect(try Clock.localFirings("*/30 * * * *", count: 5, after: Clock.at("2026-10-24T23:45:00Z"),
                                       in: Clock.berlin)
            == ["2026-10-25 02:00 +02:00", "2026-10-25 02:30 +02:00", "2026-10-25 02:00 +01:00",
                "2026-10-25 02:30 +01:00", "2026-10-25 03:00 +01:00"])
    }

    @Test("every hour, New York fall back: 01:00 fires in EDT and again in EST")
    func hourlyFallBackNewYork() throws {
        #expect(try Clock.firings("0 * * * *", count: 3, after: Clock.at("2026-11-01T04:30:00Z"), in: Clock.newYork)
            == [Clock.at("2026-11-01T05:00:00Z"), Clock.at("2026-11-01T06:00:00Z"), Clock.at("2026-11-01T07:00:00Z")])
    }

    // MARK: - Lists of firings

    @Test("the next five firings, as the API shows them, go on across a change of offset")
    func nextFive() throws {
        #expect(try Clock.localFirings("0 2 * * SUN", count: 5, after: Clock.at("2026-03-15T00:00:00Z"),
                                       in: Clock.berlin)
            == ["2026-03-15 02:00 +01:00", "2026-03-22 02:00 +01:00", "2026-03-29 03:00 +02:00",
                "2026-04-05 02:00 +02:00", "2026-04-12 02:00 +02:00"])
    }

    @Test("a rare firing decades away is found quickly")
    func rareFiringIsFound() throws {
        // February 29 on a Sunday (day-of-week starts with *: both fields must match): 2032, then 2060.
        #expect(try Clock.firings("0 0 29 2 */7", count: 2, after: Clock.at("2026-01-01T00:00:00Z"), in: Clock.utc)
            == [Clock.at("2032-02-29T00:00:00Z"), Clock.at("2060-02-29T00:00:00Z")])
    }
}
