import Foundation

extension CronExpression {
    /// Reads a 5-field expression or a macro (see ``CronExpression``).
    /// - Throws: ``ScheduleError`` `invalidCron` naming the field and what is wrong with it
    ///   (`minute: 61 is out of 0-59`); `neverFires` when its days never occur (`0 0 30 2 *`).
    public init(parsing text: String) throws(ScheduleError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var fields = trimmed.split(whereSeparator: \.isWhitespace).map(String.init)
        if let macro = fields.first, macro.hasPrefix("@") {
            guard let expansion = Self.macros[macro.lowercased()] else {
                throw ScheduleError(.invalidCron, reason: "'\(macro.prefix(64))' is not a macro (use @yearly, "
                    + "@annually, @monthly, @weekly, @daily, @midnight or @hourly)")
            }
            guard fields.count == 1 else {
                throw ScheduleError(.invalidCron, reason: "\(macro) stands for all five fields; nothing may follow it")
            }
            fields = expansion.split(separator: " ").map(String.init)
        }
        guard fields.count == 5 else {
            throw ScheduleError(.invalidCron, reason: fields.isEmpty ? "the expression is empty"
                : "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        self.init(
            text: trimmed, minutes: try CronField.minute.values(fields[0]), hours: try CronField.hour.values(fields[1]),
            daysOfMonth: try CronField.dayOfMonth.values(fields[2]), months: try CronField.month.values(fields[3]),
            daysOfWeek: try CronField.dayOfWeek.values(fields[4]), restrictsDayOfMonth: !fields[2].hasPrefix("*"),
            restrictsDayOfWeek: !fields[4].hasPrefix("*"))
        try checkSomeDayExists()
    }

    private static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// When the days of the month decide (alone or with the days of the week), one of them must
    /// exist in one of the months: every date falls on every day of the week sooner or later.
    private func checkSomeDayExists() throws(ScheduleError) {
        if restrictsDayOfMonth && restrictsDayOfWeek { return }
        let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let monthsIn = months.values
        if monthsIn.contains(where: { month in daysOfMonth.values.contains { $0 <= longest[month - 1] } }) { return }
        let names = monthsIn.map { CronField.monthNames[$0 - 1] }
        let days = daysOfMonth.values.map(String.init)
        throw ScheduleError(.neverFires, field: CronField.dayOfMonth.name, reason: "never fires: "
            + "\(Self.list(names, "and")) \(names.count == 1 ? "has" : "have") no day \(Self.list(days, "or"))")
    }

    private static func list(_ items: [String], _ conjunction: String) -> String {
        items.count < 2 ? items.joined()
            : items.dropLast().joined(separator: ", ") + " \(conjunction) " + (items.last ?? "")
    }
}

/// One of the five fields of a cron expression: what it is called, and the values it may hold.
enum CronField {
    case minute, hour, dayOfMonth, month, dayOfWeek

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                             "October", "November", "December"]
    private static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The values it may be written with; day-of-week allows 7 for Sunday.
    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// The range `*` stands for: day-of-week's Sunday once, as 0.
    private var everyValue: ClosedRange<Int> { self == .dayOfWeek ? 0...6 : range }

    /// Upper-case names and the values they stand for.
    private var names: [String: Int] {
        switch self {
        case .month: Dictionary(uniqueKeysWithValues: Self.monthNames.enumerated().map {
            ($1.prefix(3).uppercased(), $0 + 1)
        })
        case .dayOfWeek: Dictionary(uniqueKeysWithValues: Self.dayNames.enumerated().map { ($1, $0) })
        default: [:]
        }
    }

    /// The values `text` (the whole field) matches; day-of-week's 7 comes back as 0.
    func values(_ text: String) throws(ScheduleError) -> CronValues {
        var values = CronValues([])
        for element in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !element.isEmpty else { throw error("empty element in the list '\(text.prefix(64))'") }
            for value in try elementValues(element) { values.insert(self == .dayOfWeek && value == 7 ? 0 : value) }
        }
        return values
    }

    /// `*`, `a`, `a-b`, each with an optional `/step`.
    private func elementValues(_ element: Substring) throws(ScheduleError) -> StrideThrough<Int> {
        let parts = element.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw error("'\(element.prefix(64))' has more than one '/'") }
        let step = parts.count == 2 ? try self.step(parts[1]) : nil
        let base = parts[0]
        let bounds: ClosedRange<Int>
        if base == "*" {
            bounds = everyValue
        } else if base.contains("-") {
            let ends = base.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count == 2, !ends[0].isEmpty, !ends[1].isEmpty else {
                throw error("'\(base.prefix(64))' is not a value or a range")
            }
            let lower = try value(ends[0])
            var upper = try value(ends[1])
            if self == .dayOfWeek && upper == 0 && lower > 0 { upper = 7 }  // SAT-SUN
            guard lower <= upper else {
                throw error("\(base.prefix(64)) is a reversed range (\(lower) is after \(upper))")
            }
            bounds = lower...upper
        } else {
            let value = try value(base)
            bounds = value...(step == nil ? value : range.upperBound)
        }
        return stride(from: bounds.lowerBound, through: bounds.upperBound, by: step ?? 1)
    }

    private func value(_ text: Substring) throws(ScheduleError) -> Int {
        guard Self.isNumber(text) else {
            if let named = names[text.uppercased()] { return named }
            let names = switch self {
            case .month: " or a month name (JAN-DEC)"
            case .dayOfWeek: " or a day name (SUN-SAT)"
            default: ""
            }
            throw error("'\(text.prefix(64))' is not a number\(names)")
        }
        guard let number = Int(text), range.contains(number) else {
            throw error("\(text.prefix(64)) is out of \(rangeText)")
        }
        return number
    }

    private func step(_ text: Substring) throws(ScheduleError) -> Int {
        guard Self.isNumber(text) else { throw error("step '\(text.prefix(64))' is not a number") }
        guard let step = Int(text), step <= range.count else {
            throw error("step \(text.prefix(64)) is larger than the range \(rangeText)")
        }
        guard step >= 1 else { throw error("step \(step) must be at least 1") }
        return step
    }

    /// Plain ASCII digits: no sign, no spaces.
    private static func isNumber(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private var rangeText: String { "\(range.lowerBound)-\(range.upperBound)" }

    private func error(_ reason: String) -> ScheduleError {
        ScheduleError(.invalidCron, field: name, reason: reason)
    }
}
