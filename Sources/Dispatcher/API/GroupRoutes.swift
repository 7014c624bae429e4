import Hummingbird
import Shared

/// `/v1/groups`: runner groups with their settings (`maxQueued`, the launch-admission table),
/// load and live capacity.
struct GroupRoutes {
    let store: BotyardStore

    func register(on routes: APIRoutes) {
        routes.viewer.get("groups", use: list)
        routes.admin.put("groups/:name", use: save)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.groups())
    }

    /// Replaces all of a group's settings (one left out goes back to its default) and answers
    /// with the group as `GET /v1/groups` shows it; 422 for a bad name, bound or table entry.
    @Sendable func save(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let settings = try await JSONResponse.decode(GroupSettings.self, from: request)
        var problems = settings.problems
        if !Names.isValidGroup(name) { problems.insert(Names.groupRule, at: 0) }
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        try await store.saveGroup(name, settings: settings)
        let group = try await store.groups().first { $0.name == name }
        return try JSONResponse.make(group)
    }
}
