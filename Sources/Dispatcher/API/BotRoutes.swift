import Hummingbird
import Shared

/// `/v1/bots`: register and read bot definitions.
struct BotRoutes {
    let store: BotyardStore

    func register(on routes: APIRoutes) {
        routes.admin.post("bots", use: create)
        routes.viewer.get("bots", use: list)
        routes.viewer.get("bots/:name", use: show)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let bot = try await JSONResponse.decode(CreateBotRequest.self, from: request).definition
        let problems = bot.problems
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        try await store.saveBot(bot)
        return try JSONResponse.make(bot, status: .created)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.bots())
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let bot = try await store.bot(named: name) else { throw APIError.notFound("bot '\(name.prefix(64))'") }
        return try JSONResponse.make(bot)
    }
}
