import Hummingbird
import Shared

/// `/v1/robot-queue` and `/v1/credentials`: targeted launches that wait, and the account
/// credentials UI bots need.
struct RobotQueueRoutes {
    let store: BotyardStore
    /// Wakes the robot queue: a credential change is one of its events.
    let robotQueueSignal: WakeSignal

    func register(on routes: APIRoutes) {
        routes.viewer.get("robot-queue", use: list)
        routes.admin.get("credentials", use: credentials)
        routes.admin.put("credentials/:host/:account", use: saveCredential)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.robotQueue())
    }

    @Sendable func credentials(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.credentials())
    }

    @Sendable func saveCredential(_ request: Request, context: APIRequestContext) async throws -> Response {
        let host = try context.parameters.require("host")
        let account = try context.parameters.require("account")
        let credential = try await JSONResponse.decode(AccountCredential.self, from: request)
        var problems = credential.problems
        if !Names.isValid(host) { problems.insert("host must be a valid name", at: 0) }
        if !Names.isValidAccount(account) { problems.insert(Names.accountRule, at: 0) }
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        do {
            try await store.saveCredential(credential, host: host, account: account)
        } catch let error as SecretsKeyMissing {
            throw APIError(status: .conflict, code: "secrets_key_missing", message: error.description)
        }
        robotQueueSignal.notify()
        return Response(status: .noContent)
    }
}
