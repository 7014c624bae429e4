import Hummingbird
import Logging
import Shared

/// Lets a request through to a route only with a token whose role is at least the route's
/// (``APIRoutes``), and records every changing request in the audit log, refused or not.
///
/// The answer does not wait for its audit entry: the entry rides in the store's next commit
/// (within the store's wait for deferred writes, 250 ms), so that a change costs one commit, not
/// two in a row. A crash in between loses the entries of the answers of that last moment; the
/// changes they answered for are committed before their answers.
struct AccessControl: RouterMiddleware {
    typealias Context = APIRequestContext

    /// The least role the routes behind this middleware need.
    var required: Role
    var authenticator: TokenAuthenticator
    var audit: AuditRecorder

    func handle(_ request: Request, context: APIRequestContext,
                next: (Request, APIRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        do {
            let caller = try await authenticator.caller(of: request)
            context.caller = caller
            guard caller.role.allows(required) else { throw APIError.forbidden(caller: caller, required: required) }
            let response = try await next(request, context)
            audit.record(request, caller: caller, status: response.status.code, logger: context.logger)
            return response
        } catch {
            audit.record(request, caller: context.caller, status: AuditRecorder.status(of: error),
                         logger: context.logger)
            throw error
        }
    }
}

/// Writes the audit log's rows: who asked for which change, when, and the answer's status.
struct AuditRecorder: Sendable {
    var store: BotyardStore
    var metrics: DispatcherMetrics

    /// Records `request` if it asks for a change (any method but GET and HEAD), in the store's next
    /// commit. An entry that cannot be written is logged and counted as a store error; the answer
    /// stands (the change, if any, is made already).
    func record(_ request: Request, caller: Caller?, status: Int, logger: Logger) {
        guard request.method != .get, request.method != .head else { return }
        let path = String(request.uri.path)
        let method = request.method.rawValue
        store.recordAudit(caller: caller?.auditName ?? "anonymous", role: caller?.role, method: method, path: path,
                          status: status) { [metrics] failure in
            guard let failure else { return }
            metrics.storeFailed()
            logger.error("audit entry not recorded", metadata: [
                "hb.request.method": .string(method), "hb.request.path": .string(path), "error": .string("\(failure)"),
            ])
        }
    }

    /// The status an error is answered with (``StoreErrorMiddleware`` turns store failures into 503s).
    static func status(of error: any Error) -> Int {
        switch error {
        case let error as any HTTPResponseError: Int(error.status.code)
        case is StoreError: 503
        default: 500
        }
    }
}
