import Hummingbird
import Logging

/// Logs every request once it is answered: method, path, status and milliseconds, with the
/// request's id (`hb.request.id`) and, for a request that made a job, its id (`job.id`, from the
/// `Location` header) — so that a request and the job it made can be followed through the logs.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    var level: Logger.Level = .info

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let started = clock.now
        func metadata(status: HTTPResponse.Status, jobID: Substring?) -> Logger.Metadata {
            var metadata: Logger.Metadata = [
                "hb.request.method": .string(request.method.rawValue),
                "hb.request.path": .stringConvertible(request.uri),
                "http.status": .stringConvertible(status.code),
                "http.milliseconds": .stringConvertible(((clock.now - started) / .milliseconds(1) * 10).rounded() / 10),
            ]
            if let jobID { metadata["job.id"] = .string(String(jobID)) }
            return metadata
        }
        func log(status: HTTPResponse.Status, jobID: Substring? = nil) {
            // Built only when the level is logged: the metadata is an autoclosure.
            context.logger.log(level: level, "request answered", metadata: metadata(status: status, jobID: jobID))
        }
        do {
            let response = try await next(request, context)
            log(status: response.status, jobID: response.headers[.location].flatMap(Self.jobID(location:)))
            return response
        } catch let error as any HTTPResponseError {
            log(status: error.status)
            throw error
        } catch {
            log(status: .internalServerError)
            throw error
        }
    }

    /// The job a `Location` of `/v1/jobs/<id>` names.
    static func jobID(location: String) -> Substring? {
        guard location.hasPrefix("/v1/jobs/") else { return nil }
        let id = location.dropFirst("/v1/jobs/".count)
        return Int64(id) == nil ? nil : id
    }
}
