import Hummingbird
import Logging
import Shared

/// Lets a request through to a route only with a token whose role is at least the route's
/// (``APIRoutes``), and records every changing request in the audit log, refused or not.
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
            await audit.record(request, caller: caller, status: response.status.code, logger: context.logger)
            return response
        } catch {
            await audit.record(request, caller: context.caller, status: AuditRecorder.status(of: error),
                               logger: context.logger)
            throw error
        }
    }
}

/// Writes the audit log's rows: who asked for which change, when, and the answer's status.
struct AuditRecorder: Sendable {
    var store: BotyardStore
    var metrics: DispatcherMetrics

    /// Records `request` if it asks for a change (any method but GET and HEAD). A row that cannot
    /// be written is logged and counted as a store error; the answer stands (the change, if any,
    /// is made already).
    func record(_ request: Request, caller: Caller?, status: Int, logger: Logger) async {
        guard request.method != .get, request.method != .head else { return }
        let path = String(request.uri.path)
        do {
            try await store.recordAudit(caller: caller?.auditName ?? "anonymous", role: caller?.role,
                                        method: request.method.rawValue, path: path, status: status)
        } catch {
            metrics.storeFailed()
            logger.error("audit entry not recorded", metadata: [
                "hb.request.method": .string(request.method.rawValue), "hb.request.path": .string(path),
                "error": .string("\(error)"),
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
