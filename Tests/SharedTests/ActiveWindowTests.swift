import Foundation
import Testing

@testable import Shared

@Suite("Active windows and the start decision")
struct ActiveWindowTests {
    typealias Clock = ScheduleClock

    static let weekdays: [Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday]
    static let office = window(weekdays, "08:00", "18:00")
    static let nights = window(weekdays, "22:00", "06:00")

    static func window(_ days: [Weekday], _ start: String, _ end: String) -> ActiveWindow {
        ActiveWindow(days: days, start: try! LocalTime(parsing: start), end: try! LocalTime(parsing: end))
    }

    /// An instant on Berlin's clocks. January 2026: Monday the 5th to Sunday the 11th.
    static func berlin(_ text: String) -> Date { Clock.at(text, in: Clock.berlin) }

    // MARK: - Inside and outside

    @Test("Mon–Fri 08:00–18:00 is open from 08:00 up to, not including, 18:00 on weekdays only")
    func officeHours() {
        #expect(Self.office.contains(Self.berlin("2026-01-07 10:00"), in: Clock.berlin))
        #expect(Self.office.contains(Self.berlin("2026-01-07 08:00"), in: Clock.berlin))
        #expect(!Self.office.contains(Self.berlin("2026-01-07 07:59"), in: Clock.berlin))
        #expect(!Self.office.contains(Self.berlin("2026-01-07 18:00"), in: Clock.berlin))
        #expect(!Self.office.contains(Self.berlin("2026-01-10 10:00"), in: Clock.berlin))
    }

    @Test("the window is read on the zone's clocks: 10:00 in Berlin is 04:00 in New York, before it opens")
    func zoneMatters() {
        #expect(!Self.office.contains(Self.berlin("2026-01-07 10:00"), in: Clock.newYork))
    }

    @Test("a window crossing midnight opens on its days and closes the next morning")
    func crossingMidnight() {
        #expect(Self.nights.contains(Self.berlin("2026-01-05 23:00"), in: Clock.berlin), "Monday night")
        #expect(Self.nights.contains(Self.berlin("2026-01-06 02:00"), in: Clock.berlin), "Tuesday morning")
        #expect(!Self.nights.contains(Self.berlin("2026-01-05 02:00"), in: Clock.berlin), "opened on Sunday: no")
        #expect(Self.nights.contains(Self.berlin("2026-01-10 05:59"), in: Clock.berlin), "Friday's, on Saturday")
        #expect(!Self.nights.contains(Self.berlin("2026-01-10 22:30"), in: Clock.berlin), "Saturday night")
        #expect(!Self.nights.contains(Self.berlin("2026-01-07 12:00"), in: Clock.berlin))
    }

    // MARK: - When it closes

    @Test("it closes at the end time of the opening the instant is in; outside there is none")
    func closes() {
        #expect(Self.office.closes(after: Self.berlin("2026-01-07 17:40"), in: Clock.berlin)
            == Self.berlin("2026-01-07 18:00"))
        #expect(Self.nights.closes(after: Self.berlin("2026-01-05 23:00"), in: Clock.berlin)
            == Self.berlin("2026-01-06 06:00"))
        #expect(Self.office.closes(after: Self.berlin("2026-01-07 19:00"), in: Clock.berlin) == nil)
    }

    @Test("00:00–24:00 is the whole day, and days that follow each other are one window")
    func wholeDays() {
        let workingDays = Self.window(Self.weekdays, "00:00", "24:00")
        #expect(workingDays.contains(Self.berlin("2026-01-07 23:59"), in: Clock.berlin))
        #expect(workingDays.closes(after: Self.berlin("2026-01-05 10:00"), in: Clock.berlin)
            == Self.berlin("2026-01-10 00:00"))
        let always = Self.window(Weekday.allCases, "00:00", "24:00")
        #expect(always.contains(Self.berlin("2026-01-10 03:00"), in: Clock.berlin))
        #expect(always.closes(after: Self.berlin("2026-01-10 03:00"), in: Clock.berlin) == nil, "never closes")
    }

    @Test("a night window over the spring-forward night closes at 06:00 summer time, 7 hours after it opened")
    func acrossDaylightSaving() {
        let saturdayNight = Self.window([.saturday], "22:00", "06:00")
        #expect(saturdayNight.closes(after: Clock.at("2026-03-28T23:00:00Z"), in: Clock.berlin)
            == Clock.at("2026-03-29T04:00:00Z"))
    }

    @Test("a window ending at a time the clocks skip closes when they jump; at a repeated one, the first time")
    func endsInDaylightSavingChange() {
        let early = Self.window([.sunday], "00:00", "02:30")
        #expect(early.closes(after: Clock.at("2026-03-28T23:30:00Z"), in: Clock.berlin)
            == Clock.at("2026-03-29T01:00:00Z"))
        #expect(early.closes(after: Clock.at("2026-10-24T22:30:00Z"), in: Clock.berlin)
            == Clock.at("2026-10-25T00:30:00Z"))
        #expect(!early.contains(Clock.at("2026-10-25T01:10:00Z"), in: Clock.berlin), "02:10 again, but closed")
    }

    // MARK: - Description and validation

    @Test("it describes itself with day ranges: Mon–Fri 08:00–18:00, Mon, Wed–Fri, Sun 22:00–06:00")
    func description() {
        #expect(Self.office.description == "Mon–Fri 08:00–18:00")
        #expect(Self.window([.sunday, .friday, .wednesday, .monday, .thursday], "22:00", "06:00").description
            == "Mon, Wed–Fri, Sun 22:00–06:00")
        #expect(Self.window([.saturday, .sunday], "00:00", "24:00").description == "Sat, Sun 00:00–24:00")
    }

    @Test("a window without days, or starting when it ends, never opens")
    func neverOpens() {
        #expect(Self.window([], "08:00", "18:00").problems == ["never opens: it has no days"])
        #expect(Self.window([.monday], "08:00", "08:00").problems == ["never opens: it starts and ends at 08:00"])
        #expect(Self.window([.monday], "24:00", "08:00").problems == ["start must be between 00:00 and 23:59"])
        #expect(Self.office.problems.isEmpty)
        #expect(!Self.window([], "08:00", "18:00").contains(Self.berlin("2026-01-07 10:00"), in: Clock.berlin))
    }

    @Test("a window reads days by name in any case and HH:mm times; a bad time is refused")
    func decoding() throws {
        let window = try JSONCodec.decode(ActiveWindow.self, from: Data(
            #"{"days": ["Fri", "mon", "TUESDAY", "wed", "thu"], "start": "8:00", "end": "18:00"}"#.utf8))
        #expect(window == Self.office)
        #expect(String(decoding: try JSONCodec.encode(window), as: UTF8.self)
            == #"{"days":["mon","tue","wed","thu","fri"],"end":"18:00","start":"08:00"}"#)
        #expect {
            try JSONCodec.decode(ActiveWindow.self,
                                 from: Data(#"{"days": ["mon"], "start": "25:00", "end": "6:00"}"#.utf8))
        } throws: { error in
            "\(error)".contains("'25:00' is not a time of day (HH:mm, 00:00-24:00)")
        }
        #expect {
            try JSONCodec.decode(ActiveWindow.self,
                                 from: Data(#"{"days": ["mo"], "start": "8:00", "end": "18:00"}"#.utf8))
        } throws: { error in
            "\(error)".contains("'mo' is not a day of the week (mon-sun)")
        }
    }

    @Test("times of day: HH:mm from 00:00 to 24:00", arguments: ["24:01", "8", "08:0", "08-00", "-1:00", "١٢:00", ""])
    func invalidTimes(text: String) {
        #expect(throws: ScheduleError.self) { try LocalTime(parsing: text) }
    }

    // MARK: - The start decision

    /// Ten runs of 5 to 50 minutes: their nearest-rank 90th percentile is the 9th, 45 minutes.
    static let runTimes: [TimeInterval] = (1...10).map { Double($0) * 5 * 60 }

    @Test("the 90th percentile is the nearest rank: the longest of 3 to 9 runs, the 9th of 10, the 18th of 20")
    func percentile() {
        #expect(StartDecision.percentile90([30, 10, 20]) == 30)
        #expect(StartDecision.percentile90((1...9).map(Double.init)) == 9)
        #expect(StartDecision.percentile90((1...10).map(Double.init).shuffled()) == 9)
        #expect(StartDecision.percentile90((1...20).map(Double.init)) == 18)
        #expect(StartDecision.percentile90((1...100).map(Double.init)) == 90)
        #expect(StartDecision.percentile90([10, 20]) == nil)
    }

    @Test("a run whose p90 would end after the window closes is skipped, and says why")
    func skippedNearClosing() {
        let decision = StartDecision.decide(at: Self.berlin("2026-01-07 17:40"), in: Clock.berlin, window: Self.office,
                                            recentRunTimes: Self.runTimes)
        #expect(!decision.starts)
        #expect(decision.reason
            == "unlikely to finish before its window closes (p90 run time 45 min, window closes in 20 min)")
        #expect(decision.p90RunSeconds == 2700)
        #expect(decision.windowClosesAt == Self.berlin("2026-01-07 18:00"))
    }

    @Test("the same run starts when the window is open long enough, or when it would end just as it closes")
    func startsWithTimeLeft() {
        let morning = StartDecision.decide(at: Self.berlin("2026-01-07 09:00"), in: Clock.berlin, window: Self.office,
                                           recentRunTimes: Self.runTimes)
        #expect(morning == StartDecision(starts: true, p90RunSeconds: 2700,
                                         windowClosesAt: Self.berlin("2026-01-07 18:00")))
        #expect(StartDecision.decide(at: Self.berlin("2026-01-07 17:15"), in: Clock.berlin, window: Self.office,
                                     recentRunTimes: Self.runTimes).starts)
    }

    @Test("the words round the run time up and the time left down, so they never contradict the decision")
    func rounding() {
        let decision = StartDecision.decide(at: Self.berlin("2026-01-07 16:30"), in: Clock.berlin, window: Self.office,
                                            recentRunTimes: [5_430, 5_420, 5_410])
        #expect(decision.reason
            == "unlikely to finish before its window closes (p90 run time 1 h 31 min, window closes in 1 h 30 min)")
    }

    @Test("with fewer than 3 measured runs there is no judgement: it starts")
    func tooFewRuns() {
        let decision = StartDecision.decide(at: Self.berlin("2026-01-07 17:55"), in: Clock.berlin, window: Self.office,
                                            recentRunTimes: [3600, 3600])
        #expect(decision.starts && decision.reason == nil && decision.p90RunSeconds == nil)
    }

    @Test("outside its window nothing starts, whatever the run times")
    func outsideWindow() {
        let decision = StartDecision.decide(at: Self.berlin("2026-01-10 10:00"), in: Clock.berlin, window: Self.office,
                                            recentRunTimes: [])
        #expect(decision == StartDecision(starts: false, reason: "outside its active window (Mon–Fri 08:00–18:00)"))
    }

    @Test("without a window any time will do; in one that never closes any run time will do")
    func noWindow() {
        #expect(StartDecision.decide(at: Self.berlin("2026-01-10 03:00"), in: Clock.berlin, window: nil,
                                     recentRunTimes: Self.runTimes) == StartDecision(starts: true))
        let always = Self.window(Weekday.allCases, "00:00", "24:00")
        #expect(StartDecision.decide(at: Self.berlin("2026-01-10 23:59"), in: Clock.berlin, window: always,
                                     recentRunTimes: [86_400, 86_400, 86_400]).starts)
    }
}
