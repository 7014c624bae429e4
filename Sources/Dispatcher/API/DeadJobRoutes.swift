import Hummingbird
import Shared

/// `/v1/dead`: jobs that exhausted their attempts or could never run; inspect and requeue them.
struct DeadJobRoutes {
    let store: BotyardStore

    func register(on routes: APIRoutes) {
        routes.viewer.get("dead", use: list)
        routes.viewer.get("dead/:id", use: show)
        routes.operator.post("dead/:id/requeue", use: requeue)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        var filter = JobFilter(state: .dead, limit: 1000)
        filter.bot = request.uri.queryParameters["bot"].map(String.init)
        filter.group = request.uri.queryParameters["group"].map(String.init)
        return try JSONResponse.make(try await store.jobs(filter))
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try JobRoutes.jobID(context)
        guard let job = try await store.job(id: id), job.state == .dead else {
            throw APIError.notFound("dead job \(id)")
        }
        return try JSONResponse.make(job)
    }

    @Sendable func requeue(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try JobRoutes.jobID(context)
        switch try await store.requeueDead(jobID: id, initiator: "api") {
        case .requeued(let job):
            var response = try JSONResponse.make(JobCreated(id: job.id, state: job.state), status: .created)
            response.headers[.location] = "/v1/jobs/\(job.id)"
            return response
        case .notFound:
            throw APIError.notFound("job \(id)")
        case .notDead(let state):
            throw APIError.conflict("job \(id) is \(state.rawValue), not dead")
        case .alreadyRequeued(let newID):
            throw APIError.conflict("job \(id) was requeued already, as job \(newID)")
        }
    }
}
