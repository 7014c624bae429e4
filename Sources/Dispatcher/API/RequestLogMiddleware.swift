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
        func log(status: HTTPResponse.Status, jobID: Substring? = nil) {
            var metadata: Logger.Metadata = [
                "hb.request.method": .string(request.method.rawValue), "hb.request.path": .stringConvertible(request.uri),
                "http.status": .stringConvertible(status.code),
                "http.milliseconds": .stringConvertible(((clock.now - started) / .milliseconds(1) * 10).rounded() / 10),
            ]
            if let jobID { metadata["job.id"] = .string(String(jobID)) }
            context.logger.log(level: level, "request answered", metadata: metadata)
        }
        do {
            let response = try await next(request, context)
            log(status: response.status, jobID: response.headers[.location]?.split(separator: "/").last
                .flatMap { Int64($0) != nil ? $0 : nil })
            return response
        } catch let error as any HTTPResponseError {
            log(status: error.status)
            throw error
        } catch {
            log(status: .internalServerError)
            throw error
        }
    }
}
