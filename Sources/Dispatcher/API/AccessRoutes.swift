import Foundation
import Hummingbird
import Shared

/// `/v1/me`, `/v1/tokens` and `/v1/audit`: who is calling, the API tokens, and the log of changes.
struct AccessRoutes {
    let store: BotyardStore
    /// Forgets a revoked token at once.
    let authenticator: TokenAuthenticator

    func register(on routes: APIRoutes) {
        routes.viewer.get("me", use: me)
        routes.admin.post("tokens", use: create)
        routes.admin.get("tokens", use: list)
        routes.admin.delete("tokens/:id", use: revoke)
        routes.admin.get("audit", use: audit)
    }

    @Sendable func me(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let caller = context.caller else { throw APIError.unauthenticated }
        return try JSONResponse.make(caller.summary)
    }

    /// Makes a token and answers with its secret, this once; 409 when a live token has the name.
    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let new = try await JSONResponse.decode(NewAPIToken.self, from: request)
        guard new.problems.isEmpty else { throw APIError.invalid(new.problems) }
        let created: CreatedAPIToken
        do {
            created = try await store.createAPIToken(new)
        } catch let taken as TokenNameTaken {
            throw APIError.conflict(taken.description)
        }
        var response = try JSONResponse.make(created, status: .created)
        response.headers[.location] = "/v1/tokens/\(created.token.id)"
        return response
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(APITokenList(tokens: try await store.apiTokens()))
    }

    /// Revokes a token: refused from the next request on. 404 for an unknown id.
    @Sendable func revoke(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try await store.revokeAPIToken(id: id) else { throw APIError.notFound("token \(id.prefix(64))") }
        authenticator.forget(tokenID: id)
        return Response(status: .noContent)
    }

    static let auditPageLimit = 1...1000

    /// Newest first; `limit` (1–1000, default 100) entries older than the entry `before`; every
    /// request answered before this one is there.
    @Sendable func audit(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var problems: [String] = []
        let limit = query["limit"].map { Int(String($0)) } ?? 100
        if limit == nil || !Self.auditPageLimit.contains(limit!) { problems.append("limit must be between 1 and 1000") }
        let before = query["before"].map { Int64(String($0)) }
        if case .some(.none) = before { problems.append("before must be an entry's id") }
        guard problems.isEmpty, let limit else { throw APIError.invalid(problems) }
        // Entries of requests answered before this one may still be on their way to a commit.
        await store.commitDeferredWritesIfAny()
        let entries = try await store.auditEntries(limit: limit, before: before ?? nil)
        return try JSONResponse.make(AuditPage(entries: entries))
    }
}
