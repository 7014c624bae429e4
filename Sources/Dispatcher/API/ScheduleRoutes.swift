import Hummingbird
import Shared

/// `/v1/schedules`: cron schedules of bots, pipelines and workflows, with their next firings and
/// the history of what each firing started.
struct ScheduleRoutes {
    let store: BotyardStore
    /// Wakes the schedule keeper: the next firing may have moved.
    let scheduleSignal: WakeSignal

    func register(on routes: APIRoutes) {
        routes.viewer.get("schedules", use: list)
        routes.admin.put("schedules/:name", use: save)
        routes.viewer.get("schedules/:name", use: show)
        routes.admin.delete("schedules/:name", use: delete)
        routes.operator.post("schedules/:name/pause") { try await setEnabled(false, $0, $1) }
        routes.operator.post("schedules/:name/resume") { try await setEnabled(true, $0, $1) }
        routes.viewer.get("schedules/:name/firings", use: firings)
    }

    /// Creates (201) or replaces (200) a schedule; 422 with every reason for an invalid cron,
    /// an unknown time zone, a window that never opens, or a target or calendar that does not exist.
    @Sendable func save(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        var definition = try await JSONResponse.decode(ScheduleDefinition.self, from: request)
        var problems: [String] = []
        if definition.name.isEmpty {
            definition.name = name
        } else if definition.name != name {
            problems.append("the name in the body ('\(definition.name.prefix(64))') differs from the path's")
        }
        problems += definition.problems
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        switch try await store.saveSchedule(definition) {
        case .saved(let schedule, let created):
            scheduleSignal.notify()
            var response = try JSONResponse.make(schedule, status: created ? .created : .ok)
            if created { response.headers[.location] = "/v1/schedules/\(name)" }
            return response
        case .invalid(let problems):
            throw APIError.invalid(problems)
        }
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let schedule = try await store.schedule(named: name) else { throw notFound(name) }
        return try JSONResponse.make(schedule)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.schedules())
    }

    /// Pauses or resumes; a resumed schedule waits for its next firing (none made up).
    func setEnabled(_ enabled: Bool, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let schedule = try await store.setSchedule(name, enabled: enabled) else { throw notFound(name) }
        scheduleSignal.notify()
        return try JSONResponse.make(schedule)
    }

    /// Removes the schedule and its history; what it started runs on.
    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard try await store.deleteSchedule(named: name) else { throw notFound(name) }
        scheduleSignal.notify()
        return Response(status: .noContent)
    }

    /// The firings, newest first (`?limit=`, 1–1000, 100 by default).
    @Sendable func firings(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        var limit = 100
        if let text = request.uri.queryParameters["limit"] {
            guard let parsed = Int(text), (1...1000).contains(parsed) else {
                throw APIError.invalid(["limit must be between 1 and 1000"])
            }
            limit = parsed
        }
        guard let firings = try await store.firings(ofSchedule: name, limit: limit) else { throw notFound(name) }
        return try JSONResponse.make(firings)
    }

    private func notFound(_ name: String) -> APIError { APIError.notFound("schedule '\(name.prefix(64))'") }
}
