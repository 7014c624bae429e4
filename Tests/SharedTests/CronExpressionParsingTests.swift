import Testing

@testable import Shared

@Suite("Cron expression parsing")
struct CronExpressionParsingTests {
    static func cron(_ text: String) throws -> CronExpression { try CronExpression(parsing: text) }

    @Test("each field takes *, values, ranges, steps and lists")
    func fieldSyntax() throws {
        let cron = try Self.cron("*/15 9-17/4 1,15,31 1 *")
        #expect(cron.minutes.values == [0, 15, 30, 45])
        #expect(cron.hours.values == [9, 13, 17])
        #expect(cron.daysOfMonth.values == [1, 15, 31])
        #expect(cron.months.values == [1])
        #expect(cron.daysOfWeek.values == Array(0...6))
        #expect(try Self.cron("0-5,58 * * * *").minutes.values == [0, 1, 2, 3, 4, 5, 58])
    }

    @Test("a/n runs from a to the end of the field")
    func stepFromAValue() throws {
        #expect(try Self.cron("5/15 * * * *").minutes.values == [5, 20, 35, 50])
        #expect(try Self.cron("0 0 10/10 * *").daysOfMonth.values == [10, 20, 30])
    }

    @Test("months JAN–DEC and days SUN–SAT by name, in any case, in ranges and lists")
    func names() throws {
        let cron = try Self.cron("0 9 * jan,Jul-SEP mon-FRI")
        #expect(cron.months.values == [1, 7, 8, 9])
        #expect(cron.daysOfWeek.values == [1, 2, 3, 4, 5])
        #expect(try Self.cron("0 9 * * sun,sat").daysOfWeek.values == [0, 6])
    }

    @Test("day-of-week 0 and 7 are both Sunday; SAT-SUN and 5-7 run to Sunday")
    func sundayTwice() throws {
        #expect(try Self.cron("0 9 * * 7").daysOfWeek.values == [0])
        #expect(try Self.cron("0 9 * * 0,7").daysOfWeek.values == [0])
        #expect(try Self.cron("0 9 * * SAT-SUN").daysOfWeek.values == [0, 6])
        #expect(try Self.cron("0 9 * * 5-7").daysOfWeek.values == [0, 5, 6])
    }

    @Test("a day field is restricted unless it starts with *, as crontab(5) defines it")
    func restrictedDays() throws {
        let both = try Self.cron("0 9 1 * MON")
        #expect(both.restrictsDayOfMonth && both.restrictsDayOfWeek)
        let stepped = try Self.cron("0 9 */2 * MON")
        #expect(!stepped.restrictsDayOfMonth && stepped.restrictsDayOfWeek)
    }

    @Test("the macros stand for their usual expressions", arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@HOURLY", "0 * * * *"),
    ])
    func macros(macro: String, expansion: String) throws {
        let cron = try Self.cron(macro)
        let expanded = try Self.cron(expansion)
        #expect(cron.text == macro)
        #expect(cron.minutes == expanded.minutes && cron.hours == expanded.hours && cron.months == expanded.months)
        #expect(cron.daysOfMonth == expanded.daysOfMonth && cron.daysOfWeek == expanded.daysOfWeek)
    }

    @Test("surrounding and repeated white space does not matter; the text is kept as written")
    func whiteSpace() throws {
        let cron = try Self.cron("  0\t9  * * 1-5 \n")
        #expect(cron.text == "0\t9  * * 1-5")
        #expect(cron.description == cron.text)
        #expect(cron.hours.values == [9])
    }

    @Test("an invalid expression names the field and what is wrong with it", arguments: [
        ("61 * * * *", "minute: 61 is out of 0-59"),
        ("0 24 * * *", "hour: 24 is out of 0-23"),
        ("0 0 0 * *", "day-of-month: 0 is out of 1-31"),
        ("0 0 32 * *", "day-of-month: 32 is out of 1-31"),
        ("0 0 * 13 *", "month: 13 is out of 1-12"),
        ("0 0 * * 8", "day-of-week: 8 is out of 0-7"),
        ("99999999999999999999 * * * *", "minute: 99999999999999999999 is out of 0-59"),
        ("x * * * *", "minute: 'x' is not a number"),
        ("0 0 * FOO *", "month: 'FOO' is not a number or a month name (JAN-DEC)"),
        ("0 0 * * MONDAY", "day-of-week: 'MONDAY' is not a number or a day name (SUN-SAT)"),
        ("0 0 ? * MON", "day-of-month: '?' is not a number"),
        ("0 0 L * *", "day-of-month: 'L' is not a number"),
        ("*/0 * * * *", "minute: step 0 must be at least 1"),
        ("*/61 * * * *", "minute: step 61 is larger than the range 0-59"),
        ("*/x * * * *", "minute: step 'x' is not a number"),
        ("0 */ * * *", "hour: step '' is not a number"),
        ("30-10 * * * *", "minute: 30-10 is a reversed range (30 is after 10)"),
        ("0 0 * * FRI-MON", "day-of-week: FRI-MON is a reversed range (5 is after 1)"),
        ("1,,2 * * * *", "minute: empty element in the list '1,,2'"),
        ("5, * * * *", "minute: empty element in the list '5,'"),
        ("1/2/3 * * * *", "minute: '1/2/3' has more than one '/'"),
        ("-5 * * * *", "minute: '-5' is not a value or a range"),
        ("1-2-3 * * * *", "minute: '1-2-3' is not a value or a range"),
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"),
        ("0 0 * * * 2026", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"),
        ("   ", "the expression is empty"),
        ("@reboot", "'@reboot' is not a macro (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or "
            + "@hourly)"),
        ("@daily 5", "@daily stands for all five fields; nothing may follow it"),
    ])
    func invalid(text: String, message: String) {
        #expect {
            try Self.cron(text)
        } throws: { error in
            (error as? ScheduleError)?.code == .invalidCron && "\(error)" == message
        }
    }

    @Test("an expression whose days never occur never fires, and says so", arguments: [
        ("0 0 30 2 *", "day-of-month: never fires: February has no day 30"),
        ("0 0 30,31 FEB *", "day-of-month: never fires: February has no day 30 or 31"),
        ("0 0 31 2,4,6 *", "day-of-month: never fires: February, April and June have no day 31"),
        ("0 0 31 2 */2", "day-of-month: never fires: February has no day 31"),
    ])
    func neverFires(text: String, message: String) {
        #expect {
            try Self.cron(text)
        } throws: { error in
            (error as? ScheduleError)?.code == .neverFires && "\(error)" == message
        }
    }

    @Test("February 29, and a missing day that a restricted day-of-week can stand in for, do fire")
    func rareButPossible() throws {
        _ = try Self.cron("0 9 29 2 *")
        _ = try Self.cron("0 9 30 2 MON")
        _ = try Self.cron("0 0 31 * *")
    }
}
