import Hummingbird
import Shared

/// `/v1/hosts/{host}/accounts/{account}`: what operators do to one account of a host.
struct AccountRoutes {
    let store: BotyardStore

    func register(on routes: APIRoutes) {
        routes.operator.post("hosts/:host/accounts/:account/clear-hold", use: clearHold)
    }

    /// Clears the hold of an account whose cleanup failed: 202 with the workers told; 404 when no active
    /// worker of the host serves it; 409 when it is not held.
    @Sendable func clearHold(_ request: Request, context: APIRequestContext) async throws -> Response {
        let host = try context.parameters.require("host")
        let account = try context.parameters.require("account")
        var problems: [String] = []
        if !Names.isValid(host) { problems.append("host must be a valid name") }
        if !Names.isValidAccount(account) { problems.append(Names.accountRule) }
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        switch try await store.clearHold(host: host, account: account) {
        case .cleared(let workers):
            return try JSONResponse.make(HoldCleared(host: host, account: account, workers: workers), status: .accepted)
        case .notServed:
            throw APIError.notFound("an active worker serving account \(account) on host \(host)")
        case .notHeld:
            throw APIError.conflict("account \(account) on host \(host) is not held")
        }
    }
}
