import Hummingbird
import Shared

/// `/v1/calendars`: named lists of non-working dates that schedules share.
struct CalendarRoutes {
    let store: BotyardStore
    /// Wakes the schedule keeper: the schedules naming a changed calendar may fire at other times.
    let scheduleSignal: WakeSignal

    func register(on routes: APIRoutes) {
        routes.viewer.get("calendars", use: list)
        routes.admin.put("calendars/:name", use: save)
        routes.viewer.get("calendars/:name", use: show)
        routes.admin.delete("calendars/:name", use: delete)
    }

    /// Creates (201) or replaces (200) a calendar; 422 for a bad name or a date that does not exist.
    @Sendable func save(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let calendar = try await JSONResponse.decode(CalendarBody.self, from: request).calendar(named: name)
        var problems: [String] = []
        if calendar.name != name {
            problems.append("the name in the body ('\(calendar.name.prefix(64))') differs from the path's")
        }
        problems += calendar.problems
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        let created = try await store.saveCalendar(calendar)
        scheduleSignal.notify()
        var response = try JSONResponse.make(calendar, status: created ? .created : .ok)
        if created { response.headers[.location] = "/v1/calendars/\(name)" }
        return response
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let calendar = try await store.calendar(named: name) else { throw notFound(name) }
        return try JSONResponse.make(calendar)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.calendars())
    }

    /// 409 while schedules name it.
    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        switch try await store.deleteCalendar(named: name) {
        case .deleted: return Response(status: .noContent)
        case .notFound: throw notFound(name)
        case .inUse(let schedules):
            throw APIError.conflict("calendar '\(name)' is used by schedule(s) \(schedules.joined(separator: ", "))")
        }
    }

    private func notFound(_ name: String) -> APIError { APIError.notFound("calendar '\(name.prefix(64))'") }
}

/// A calendar's body: its name may be left to the path.
private struct CalendarBody: Decodable {
    var name: String?
    var nonWorkingDates: [LocalDate]?

    func calendar(named name: String) -> WorkingDayCalendar {
        WorkingDayCalendar(name: self.name ?? name, nonWorkingDates: nonWorkingDates ?? [])
    }
}
