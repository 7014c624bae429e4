import Testing

@testable import Shared

@Suite("Active windows written as people write them")
struct ActiveWindowParsingTests {
    @Test("days, ranges, lists and times read as the window they say", arguments: [
        ("Mon-Fri 08:00-18:00", "Mon–Fri 08:00–18:00"),
        ("mon,wed-fri 22:00-06:00", "Mon, Wed–Fri 22:00–06:00"),
        ("Sat-Sun 00:00-24:00", "Sat, Sun 00:00–24:00"),
        ("Fri-Mon 09:30-17:00", "Mon, Fri–Sun 09:30–17:00"),
        ("Tuesday 07:00-07:30", "Tue 07:00–07:30"),
    ])
    func parses(text: String, window: String) throws {
        #expect(try ActiveWindow(parsing: text).description == window)
    }

    @Test("a window that does not read is refused naming the part that is wrong", arguments: [
        ("Mon-Fri", "'Mon-Fri' is not 'days HH:mm-HH:mm' (like 'Mon-Fri 08:00-18:00')"),
        ("Mon-Funday 08:00-18:00", "'Mon-Funday' is not a day (Mon-Sun) or a range of days"),
        ("Mon,,Tue 08:00-18:00", "'' is not a day (Mon-Sun) or a range of days"),
        ("Mon-Fri 08:00", "'08:00' is not 'HH:mm-HH:mm'"),
    ])
    func refuses(text: String, reason: String) {
        #expect(throws: ScheduleError(.invalidWindow, reason: reason)) { try ActiveWindow(parsing: text) }
    }

    @Test("a time that does not exist is refused with the time's own reason")
    func badTime() {
        #expect(throws: ScheduleError.self) { try ActiveWindow(parsing: "Mon-Fri 08:00-25:00") }
    }
}
