import Foundation
import Testing

@testable import Shared

@Suite("Schedule firing rule: on time, missed, and the missed-run policy")
struct ScheduleFiringRuleTests {
    /// Every day at 07:00 Europe/Berlin.
    let daily = Schedule(cron: try! CronExpression(parsing: "0 7 * * *"), timeZone: ScheduleClock.berlin)
    let seven = ScheduleClock.at("2026-12-02 07:00", in: ScheduleClock.berlin)

    func handled(_ decision: ScheduleFiringDecision) throws -> DueFiring {
        guard case .handle(let firing) = decision else { throw Unexpected(decision: decision) }
        return firing
    }

    struct Unexpected: Error { var decision: ScheduleFiringDecision }

    @Test("before its firing a schedule waits for it")
    func waits() {
        let decision = ScheduleFiringRule.decide(daily, due: seven, policy: .runOnce, at: seven - 0.001)
        #expect(decision == .wait(until: seven))
    }

    @Test("a firing handled within the misfire threshold is on time and starts a run; the schedule then waits for the next day's")
    func onTime() throws {
        for late in [0.0, 0.05, 59.9] {
            let firing = try handled(ScheduleFiringRule.decide(daily, due: seven, policy: .skip, at: seven + late))
            #expect(firing.scheduledFor == seven)
            #expect(firing.onTime && firing.startsRun && firing.missed == nil)
            #expect(firing.reason == "on time")
            #expect(firing.next == ScheduleClock.at("2026-12-03 07:00", in: ScheduleClock.berlin))
        }
    }

    @Test("runOnce: firings missed while no dispatcher ran start one run when it is back, and the schedule goes on with its next firing")
    func runOnceAfterDowntime() throws {
        let back = ScheduleClock.at("2026-12-04 09:30", in: ScheduleClock.berlin)
        let firing = try handled(ScheduleFiringRule.decide(daily, due: seven, policy: .runOnce, at: back))
        #expect(!firing.onTime && firing.startsRun)
        #expect(firing.scheduledFor == ScheduleClock.at("2026-12-04 07:00", in: ScheduleClock.berlin))
        #expect(firing.missed == MissedFirings(count: 3, first: seven, last: firing.scheduledFor))
        #expect(firing.next == ScheduleClock.at("2026-12-05 07:00", in: ScheduleClock.berlin))
        #expect(firing.reason == "3 firings missed (2026-12-02T06:00:00.000Z to 2026-12-04T06:00:00.000Z) "
            + "while no dispatcher ran: one run for them (missed-run policy runOnce)")
    }

    @Test("skip: firings missed while no dispatcher ran start nothing; the next run is the next firing on time")
    func skipAfterDowntime() throws {
        let back = seven + 61
        let firing = try handled(ScheduleFiringRule.decide(daily, due: seven, policy: .skip, at: back))
        #expect(!firing.onTime && !firing.startsRun)
        #expect(firing.missed == MissedFirings(count: 1, first: seven, last: seven))
        #expect(firing.reason == "1 firing missed (at 2026-12-02T06:00:00.000Z) while no dispatcher ran: "
            + "skipped (missed-run policy skip)")
        #expect(firing.next == ScheduleClock.at("2026-12-03 07:00", in: ScheduleClock.berlin))
    }

    @Test("a dispatcher back just in time for the newest firing runs it on time; the ones before it were missed")
    func backInTimeForTheNewest() throws {
        let back = ScheduleClock.at("2026-12-04 07:00", in: ScheduleClock.berlin) + 20
        let firing = try handled(ScheduleFiringRule.decide(daily, due: seven, policy: .skip, at: back))
        #expect(firing.onTime && firing.startsRun)
        #expect(firing.missed?.count == 2)
        #expect(firing.missed?.last == ScheduleClock.at("2026-12-03 07:00", in: ScheduleClock.berlin))
    }

    @Test("non-working dates of the calendar are not firings, so they are not missed either")
    func calendarDatesAreNotMissed() throws {
        let holiday = WorkingDayCalendar(name: "berlin", nonWorkingDates: [LocalDate(year: 2026, month: 12, day: 3)!])
        let schedule = Schedule(cron: daily.cron, timeZone: ScheduleClock.berlin, calendar: holiday)
        let back = ScheduleClock.at("2026-12-04 09:30", in: ScheduleClock.berlin)
        let firing = try handled(ScheduleFiringRule.decide(schedule, due: seven, policy: .runOnce, at: back))
        #expect(firing.missed?.count == 2)
    }

    @Test("a dispatcher down for months counts at most the maximum of missed firings and says so")
    func longDowntime() throws {
        let everyMinute = Schedule(cron: try CronExpression(parsing: "* * * * *"), timeZone: ScheduleClock.utc)
        let due = ScheduleClock.at("2026-01-01T00:00:00Z")
        let back = ScheduleClock.at("2026-12-01T00:00:30Z")
        let firing = try handled(ScheduleFiringRule.decide(everyMinute, due: due, policy: .runOnce, at: back))
        #expect(firing.missed?.count == ScheduleFiringRule.maximumCounted)
        #expect(firing.missed?.description.hasPrefix("1000 or more firings missed") == true)
        #expect(firing.next.map { $0 > back } == true)
    }
}
