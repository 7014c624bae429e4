extension ActiveWindow {
    /// Reads a window as people write it: days (names, ranges, lists), then `HH:mm-HH:mm`:
    /// `Mon-Fri 08:00-18:00`, `mon,wed-fri 22:00-06:00`, `Sat-Sun 00:00-24:00`. A range may wrap
    /// around the week (`Fri-Mon`).
    /// - Throws: ``ScheduleError/Code/invalidWindow`` (or a time's error) naming the part that is wrong.
    public init(parsing text: String) throws(ScheduleError) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw ScheduleError(.invalidWindow, reason: "'\(text.prefix(64))' is not 'days HH:mm-HH:mm' "
                + "(like 'Mon-Fri 08:00-18:00')")
        }
        var days: [Weekday] = []
        for item in parts[0].split(separator: ",", omittingEmptySubsequences: false) {
            days += try Self.days(item)
        }
        let times = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2 else {
            throw ScheduleError(.invalidWindow, reason: "'\(parts[1].prefix(32))' is not 'HH:mm-HH:mm'")
        }
        self.init(days: days, start: try LocalTime(parsing: String(times[0])),
                  end: try LocalTime(parsing: String(times[1])))
    }

    /// `Mon`, or `Mon-Fri` (wrapping past Sunday when the second comes first).
    private static func days(_ item: Substring) throws(ScheduleError) -> [Weekday] {
        let ends = item.split(separator: "-", omittingEmptySubsequences: false)
        let named = ends.compactMap { Weekday(name: $0) }
        guard (1...2).contains(ends.count), named.count == ends.count else {
            throw ScheduleError(.invalidWindow, reason: "'\(item.prefix(32))' is not a day (Mon-Sun) or a range of days")
        }
        guard let last = named.last, let first = named.first, first != last else { return named }
        var days = [first]
        var day = first
        while day != last {
            day = Weekday(rawValue: day.rawValue % 7 + 1)!
            days.append(day)
        }
        return days
    }
}
