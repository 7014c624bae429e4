import ArgumentParser
import BotyardClient
import Foundation
import Shared

struct CalendarCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar", abstract: "Calendars: non-working dates that schedules skip.",
        subcommands: [SetCalendar.self, ListCalendars.self, ShowCalendar.self, DeleteCalendar.self])
}

struct SetCalendar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Create or replace a calendar with its non-working dates.")

    @OptionGroup var connection: Connection
    @Argument(help: "The calendar's name.") var name: String
    @Option(help: "A non-working date, yyyy-MM-dd (repeatable).") var date: [String] = []

    func run() async throws {
        var dates: [LocalDate] = []
        for text in date {
            do throws(ScheduleError) {
                dates.append(try LocalDate(parsing: text))
            } catch {
                throw ValidationError("--date: \(error)")
            }
        }
        let saved = try await connection.client.put("/v1/calendars/\(name)",
                                                    WorkingDayCalendar(name: name, nonWorkingDates: dates),
                                                    as: WorkingDayCalendar.self)
        try connection.show(saved) { print("calendar \(saved.name): \(saved.nonWorkingDates.count) non-working dates") }
    }
}

struct ListCalendars: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List calendars.")

    @OptionGroup var connection: Connection

    func run() async throws {
        var table = Table(headers: ["NAME", "DATES", "NEXT"])
        let today = LocalDate(Date(), in: TimeZone.current)
        let calendars = try await connection.client.get("/v1/calendars", as: [WorkingDayCalendar].self)
        for calendar in calendars {
            let next = calendar.nonWorkingDates.first { $0 >= today }
            table.rows.append([calendar.name, "\(calendar.nonWorkingDates.count)", next.map(\.description) ?? "-"])
        }
        try connection.show(calendars) { print(table.rendered) }
    }
}

struct ShowCalendar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a calendar's dates.")

    @OptionGroup var connection: Connection
    @Argument(help: "The calendar.") var name: String

    func run() async throws {
        let calendar = try await connection.client.get("/v1/calendars/\(name)", as: WorkingDayCalendar.self)
        try connection.show(calendar) {
            print("calendar \(calendar.name): \(calendar.nonWorkingDates.count) non-working dates")
            for date in calendar.nonWorkingDates { print("  \(date) \(date.weekday)") }
        }
    }
}

struct DeleteCalendar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a calendar no schedule names.")

    @OptionGroup var connection: Connection
    @Argument(help: "The calendar.") var name: String

    func run() async throws {
        try await connection.client.delete("/v1/calendars/\(name)")
        try connection.say("calendar \(name) deleted")
    }
}
