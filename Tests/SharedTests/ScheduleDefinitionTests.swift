import Foundation
import Testing

@testable import Shared

@Suite("Schedule definitions and working-day calendars")
struct ScheduleDefinitionTests {
    typealias Clock = ScheduleClock

    static func date(_ text: String) -> LocalDate { try! LocalDate(parsing: text) }

    static let christmas = WorkingDayCalendar(
        name: "de-holidays", nonWorkingDates: ["2026-12-25", "2026-12-24", "2026-12-31", "2027-01-01"].map(date))

    // MARK: - Calendars

    @Test("a schedule skips the non-working dates of its calendar: Christmas to New Year, weekends aside")
    func skipsNonWorkingDates() throws {
        let schedule = Schedule(cron: try CronExpression(parsing: "0 9 * * MON-FRI"), timeZone: Clock.berlin,
                                calendar: Self.christmas)
        #expect(schedule.nextFirings(count: 5, after: Clock.at("2026-12-23 09:00", in: Clock.berlin)).map {
            Clock.local($0, Clock.berlin)
        } == ["2026-12-28 09:00 +01:00", "2026-12-29 09:00 +01:00", "2026-12-30 09:00 +01:00",
              "2027-01-04 09:00 +01:00", "2027-01-05 09:00 +01:00"])
    }

    @Test("a non-working date is read on the schedule's clocks, not in UTC")
    func nonWorkingDateIsLocal() throws {
        let calendar = WorkingDayCalendar(name: "closed", nonWorkingDates: [Self.date("2026-06-01")])
        let schedule = Schedule(cron: try CronExpression(parsing: "0 23 * * *"), timeZone: Clock.newYork,
                                calendar: calendar)
        // 23:00 on May 31 in New York is June 1 in UTC, and fires; 23:00 on June 1 does not.
        #expect(schedule.nextFirings(count: 2, after: Clock.at("2026-05-31T12:00:00Z"))
            == [Clock.at("2026-06-01T03:00:00Z"), Clock.at("2026-06-03T03:00:00Z")])
    }

    @Test("without a calendar every firing of the cron counts")
    func withoutCalendar() throws {
        let schedule = Schedule(cron: try CronExpression(parsing: "0 9 25 12 *"), timeZone: Clock.berlin)
        #expect(schedule.nextFiring(after: Clock.at("2026-12-01T00:00:00Z")) == Clock.at("2026-12-25T08:00:00Z"))
    }

    @Test("a calendar keeps its dates sorted and once each, and may leave them out")
    func calendarDecoding() throws {
        let calendar = try JSONCodec.decode(WorkingDayCalendar.self, from: Data(#"""
            {"name": "de-holidays",
             "nonWorkingDates": ["2027-01-01", "2026-12-25", "2026-12-24", "2026-12-31", "2026-12-25"]}
            """#.utf8))
        #expect(calendar == Self.christmas)
        #expect(!calendar.isWorkingDay(Self.date("2026-12-25")) && calendar.isWorkingDay(Self.date("2026-12-28")))
        #expect(String(decoding: try JSONCodec.encode(calendar), as: UTF8.self) == #"{"name":"de-holidays","#
            + #""nonWorkingDates":["2026-12-24","2026-12-25","2026-12-31","2027-01-01"]}"#)
        #expect(try JSONCodec.decode(WorkingDayCalendar.self, from: Data(#"{"name": "empty"}"#.utf8))
            .nonWorkingDates.isEmpty)
    }

    @Test("a date that does not exist is refused, with the text")
    func calendarWithBadDate() {
        #expect {
            try JSONCodec.decode(WorkingDayCalendar.self, from: Data(
                #"{"name": "c", "nonWorkingDates": ["2026-02-30"]}"#.utf8))
        } throws: { error in
            "\(error)".contains("'2026-02-30' is not a date (yyyy-MM-dd)")
        }
        #expect(WorkingDayCalendar(name: "bad name!").problems == ["name must be a valid name"])
    }

    @Test("dates are yyyy-MM-dd and must exist: 2028-02-29 does, 2027-02-29 does not", arguments: [
        ("2028-02-29", true), ("2027-02-29", false), ("2100-02-29", false), ("2000-02-29", true), ("2026-04-31", false),
        ("2026-13-01", false), ("2026-1-01", false), ("26-01-01", false), ("2026/01/01", false), ("0000-01-01", false),
    ])
    func dates(text: String, exists: Bool) {
        #expect(((try? LocalDate(parsing: text)) != nil) == exists)
    }

    // MARK: - Definitions

    @Test("a definition needs a target and a cron; the zone is UTC, missed runs run once, and it is enabled")
    func decodingDefaults() throws {
        let definition = try JSONCodec.decode(ScheduleDefinition.self, from: Data(
            #"{"name": "month-end", "target": {"pipeline": "close-books"}, "cron": "@monthly"}"#.utf8))
        #expect(definition == ScheduleDefinition(name: "month-end", target: .pipeline("close-books"), cron: "@monthly"))
        #expect(definition.timeZone == "UTC" && definition.missedRunPolicy == .runOnce && definition.enabled)
        #expect(definition.calendar == nil && definition.window == nil)
        #expect(definition.problems.isEmpty)
    }

    @Test("a bot target has a group, and the job's environment, priority and inputs with their defaults")
    func botTarget() throws {
        let definition = try JSONCodec.decode(ScheduleDefinition.self, from: Data(#"""
            {"name": "invoices", "target": {"bot": "invoice-poster", "group": "finance", "inputs": {"MODE": "batch"}},
             "cron": "0 7 * * MON-FRI", "timeZone": "Europe/Berlin", "calendar": "de-holidays",
             "window": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "18:00"},
             "missedRunPolicy": "skip", "enabled": false}
            """#.utf8))
        #expect(definition.target == .bot(ScheduledJob(bot: "invoice-poster", group: "finance",
                                                       inputs: ["MODE": "batch"])))
        #expect(definition.window?.description == "Mon–Fri 07:00–18:00")
        #expect(definition.missedRunPolicy == .skip && !definition.enabled)
        #expect(definition.problems.isEmpty)
        #expect(try JSONCodec.decode(ScheduleDefinition.self, from: JSONCodec.encode(definition)) == definition)
    }

    @Test("a target names exactly one of bot, pipeline or workflow, and only a bot takes job settings", arguments: [
        #"{"pipeline": "p", "workflow": "w"}"#, #"{}"#, #"{"workflow": "w", "group": "g"}"#,
        #"{"bot": "b"}"#,
    ])
    func badTargets(target: String) {
        #expect(throws: CodecError.self) {
            try JSONCodec.decode(ScheduleDefinition.self, from: Data(
                #"{"name": "s", "cron": "@daily", "target": \#(target)}"#.utf8))
        }
    }

    @Test("an unusable definition names every problem, with the cron's field and the unknown zone")
    func validation() {
        let definition = ScheduleDefinition(
            name: "../x", target: .bot(ScheduledJob(bot: "b", group: "account", environment: "qa")),
            cron: "61 * * * *", timeZone: "Mars/Olympus", calendar: "bad name",
            window: ActiveWindow(days: [.monday], start: LocalTime(hour: 8, minute: 0)!,
                                 end: LocalTime(hour: 8, minute: 0)!))
        #expect(definition.problems == [
            "name must be a valid name",
            Names.groupRule,
            "environment must be one of dev, staging, prod",
            "cron: minute: 61 is out of 0-59",
            "unknown time zone 'Mars/Olympus'",
            "calendar must be a valid name",
            "window: never opens: it starts and ends at 08:00",
        ])
    }

    @Test("a cron that never fires, a window without days and an over-long cron are problems too")
    func moreProblems() {
        var definition = ScheduleDefinition(name: "s", target: .workflow("w"), cron: "0 0 30 2 *",
                                            timeZone: "America/New_York",
                                            window: ActiveWindow(days: [], start: .endOfDay, end: .endOfDay))
        #expect(definition.problems == [
            "cron: day-of-month: never fires: February has no day 30",
            "window: never opens: it has no days",
            "window: start must be between 00:00 and 23:59",
            "window: never opens: it starts and ends at 24:00",
        ])
        definition.cron = String(repeating: "* ", count: 200)
        definition.window = nil
        #expect(definition.problems == ["cron may have at most 256 characters"])
    }

    @Test("a time zone is an identifier Foundation knows, in its exact case", arguments: [
        ("Europe/Berlin", true), ("America/New_York", true), ("UTC", true), ("Etc/GMT-2", true),
        ("europe/berlin", false), ("Mars/Olympus", false), ("", false), ("Europe/Berlin ", false),
    ])
    func timeZones(identifier: String, known: Bool) {
        #expect(((try? Schedule.timeZone(identifier)) != nil) == known)
    }

    @Test("a valid definition becomes a schedule with its calendar")
    func scheduleFromDefinition() throws {
        let definition = ScheduleDefinition(name: "s", target: .pipeline("p"), cron: "0 9 24 12 *",
                                            timeZone: "Europe/Berlin", calendar: "de-holidays")
        let schedule = try Schedule(definition, calendar: Self.christmas)
        #expect(schedule.nextFiring(after: Clock.at("2026-12-01T00:00:00Z")) == Clock.at("2027-12-24T08:00:00Z"))
        #expect(throws: ScheduleError.self) {
            try Schedule(ScheduleDefinition(name: "s", target: .pipeline("p"), cron: "@daily", timeZone: "Nowhere"),
                         calendar: nil)
        }
    }
}
