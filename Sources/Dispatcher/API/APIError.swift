import Hummingbird
import Shared

/// An API failure: an HTTP status, a stable machine-readable code, and a message for people.
///
/// Rendered as `{"error": {"code": "...", "message": "..."}}`.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// The job the request was recorded as, if any.
    var jobID: Int64?

    static func malformedJSON(_ detail: String) -> APIError {
        APIError(status: .badRequest, code: "malformed_json", message: "request body is not valid: \(detail)")
    }

    static func invalid(_ problems: [String]) -> APIError {
        APIError(status: .unprocessableContent, code: "invalid_request", message: problems.joined(separator: "; "))
    }

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "\(what) does not exist")
    }

    static func unknownBot(_ name: String) -> APIError {
        APIError(status: .unprocessableContent, code: "unknown_bot", message: "no bot named '\(name.prefix(64))'")
    }

    static func conflict(_ message: String) -> APIError {
        APIError(status: .conflict, code: "conflict", message: message)
    }

    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "payload_too_large", message: "request body exceeds \(limit) bytes")
    }

    /// A launch whose admission mode found no slot; it is recorded as a `rejected` job. A 429, not
    /// a 5xx: the dispatcher works, the group is full (the same launch may be taken later).
    static func noSlotsAvailable(_ reason: String, jobID: Int64) -> APIError {
        APIError(status: .tooManyRequests, code: "no_slots_available", message: reason, jobID: jobID)
    }

    /// A route that needs a token, called without one.
    static let unauthenticated = APIError(
        status: .unauthorized, code: "unauthenticated",
        message: "this route needs an API token: send 'Authorization: Bearer <token>'")

    static func invalidToken(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "invalid_token", message: message)
    }

    static func forbidden(caller: Caller, required: Role) -> APIError {
        APIError(status: .forbidden, code: "forbidden",
                 message: "\(caller.auditName) has the role \(caller.role.rawValue); this needs \(required.rawValue)")
    }

    static func storeUnavailable(_ error: any Error) -> APIError {
        APIError(status: .serviceUnavailable, code: "store_unavailable",
                 message: "the job store cannot be used right now; nothing was changed (\(error))")
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(APIErrorBody(code: code, message: message, jobID: jobID), status: status)
        response.headers[.contentType] = "application/json"
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
