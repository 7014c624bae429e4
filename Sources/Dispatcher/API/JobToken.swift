import Hummingbird

/// A bot's calls from inside its job carry the job's token (`Authorization: Bearer …`, from
/// `BOTYARD_JOB_TOKEN`): the dispatcher knows the job by it.
enum JobToken {
    /// The job whose token `request` carries; nil when it carries none.
    /// - Throws: 401 `invalid_token` for a token no job has.
    static func job(of request: Request, in store: BotyardStore) throws -> Int64? {
        guard let header = request.headers[.authorization] else { return nil }
        guard header.hasPrefix("Bearer "), let job = try store.jobID(forToken: String(header.dropFirst(7))) else {
            throw APIError(status: .unauthorized, code: "invalid_token", message: "the bearer token is no job's")
        }
        return job
    }
}
