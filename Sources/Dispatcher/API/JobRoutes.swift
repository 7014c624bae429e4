import Hummingbird
import Shared

/// `/v1/jobs`: submit, read, list, cancel, pause and resume jobs.
struct JobRoutes {
    let store: BotyardStore
    /// Wakes the robot queue: a cancelled launch frees its account.
    let robotQueueSignal: WakeSignal
    let metrics: DispatcherMetrics

    func register(on routes: APIRoutes) {
        routes.operator.post("jobs", use: submit)
        routes.operator.post("jobs/batch", use: submitBatch)
        routes.viewer.get("jobs", use: list)
        routes.viewer.get("jobs/:id", use: show)
        routes.viewer.get("jobs/:id/log", use: log)
        routes.viewer.get("jobs/:id/cleanup-log", use: cleanupLog)
        routes.operator.post("jobs/:id/cancel", use: cancel)
        routes.operator.post("jobs/:id/pause", use: pause)
        routes.operator.post("jobs/:id/resume", use: resume)
    }

    /// Stores a job. One submitted with a job's token (a bot starting a bot) is recorded as started by
    /// that job, whatever the body says; 409 `parent_ended` when that job has ended.
    @Sendable func submit(_ request: Request, context: APIRequestContext) async throws -> Response {
        var submission = try await JSONResponse.decode(SubmitJobRequest.self, from: request)
        let parent = context.caller?.jobID
        if let parent {
            submission.launchMethod = .botStartedByBot
            submission.initiator = "job \(parent)"
        }
        let problems = submission.problems
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        guard let bot = try await store.bot(named: submission.bot) else { throw APIError.unknownBot(submission.bot) }
        let job: JobSnapshot
        if let parent {
            switch try await store.submit(submission, bot: bot, startedBy: parent) {
            case .submitted(let child):
                job = child
            case .parentEnded(let state):
                throw APIError(status: .conflict, code: "parent_ended",
                               message: "job \(parent) already ended as \(state.rawValue); a bot whose job has ended "
                                   + "cannot start another")
            }
        } else {
            job = try await store.submit(submission, bot: bot)
        }
        metrics.jobSubmitted(group: submission.group, bot: submission.bot)
        if job.state == .rejected { throw APIError.noSlotsAvailable(job.reason ?? "No slots available", jobID: job.id) }
        var response = try JSONResponse.make(JobCreated(id: job.id, state: job.state), status: .created)
        response.headers[.location] = "/v1/jobs/\(job.id)"
        return response
    }

    /// Stores up to ``SubmitJobBatchRequest/maximumJobs`` jobs in one transaction, all or none:
    /// 422 naming every bad entry by its index. Each job is admitted as a single launch would be;
    /// one its admission mode refuses is stored `rejected`, as the answer's list shows.
    @Sendable func submitBatch(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard context.caller?.jobID == nil else {
            throw APIError.invalid(["a bot starts its jobs one at a time (POST /v1/jobs), not in a batch"])
        }
        let batch = try await JSONResponse.decode(SubmitJobBatchRequest.self, from: request,
                                                  limit: Self.maximumBatchBytes)
        let problems = batch.problems
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        switch try await store.submitBatch(batch.jobs) {
        case .submitted(let jobs):
            for (groupAndBot, jobs) in Dictionary(grouping: batch.jobs, by: { [$0.group, $0.bot] }) {
                metrics.jobSubmitted(group: groupAndBot[0], bot: groupAndBot[1], count: jobs.count)
            }
            return try JSONResponse.make(JobBatchCreated(jobs: jobs.map { JobCreated(id: $0.id, state: $0.state) }),
                                         status: .created)
        case .unknownBots(let problems):
            throw APIError.invalid(problems)
        }
    }

    /// A batch's body may be larger than a single request's: 1,000 jobs with their inputs.
    static let maximumBatchBytes = 16 << 20

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = JobFilter()
        if let state = query["state"] {
            guard let parsed = JobState(rawValue: String(state)) else {
                throw APIError.invalid(["state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))"])
            }
            filter.state = parsed
        }
        filter.bot = query["bot"].map(String.init)
        filter.group = query["group"].map(String.init)
        if let parent = query["parent"] {
            guard let parsed = Int64(parent), parsed > 0 else { throw APIError.invalid(["parent must be a job id"]) }
            filter.parent = parsed
        }
        if let limit = query["limit"] {
            guard let parsed = Int(limit), (1...1000).contains(parsed) else {
                throw APIError.invalid(["limit must be between 1 and 1000"])
            }
            filter.limit = parsed
        }
        if let offset = query["offset"] {
            guard let parsed = Int(offset), parsed >= 0 else { throw APIError.invalid(["offset must be 0 or more"]) }
            filter.offset = parsed
        }
        return try JSONResponse.make(try await store.jobs(filter))
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        guard let job = try await store.job(id: id) else { throw APIError.notFound("job \(id)") }
        return try JSONResponse.make(job)
    }

    /// The bot's stdout and stderr of one attempt (`?attempt=N`, else the last), as text.
    @Sendable func log(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await attemptText(request, context, what: "a log") { try await store.log(jobID: $0, attempt: $1) }
    }

    /// What the account's cleanup command printed after attempt `?attempt=N` (else the last one), as text.
    @Sendable func cleanupLog(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await attemptText(request, context, what: "a cleanup log") {
            try await store.cleanupLog(jobID: $0, attempt: $1)
        }
    }

    /// A text kept per attempt of a job, found by `read(jobID, attempt)`; 404 when there is none.
    private func attemptText(_ request: Request, _ context: APIRequestContext, what: String,
                             read: (Int64, Int?) async throws -> String?) async throws -> Response {
        let id = try Self.jobID(context)
        var attempt: Int?
        if let text = request.uri.queryParameters["attempt"] {
            guard let parsed = Int(text), parsed >= 1 else { throw APIError.invalid(["attempt must be a positive number"]) }
            attempt = parsed
        }
        guard try await store.job(id: id) != nil else { throw APIError.notFound("job \(id)") }
        guard let text = try await read(id, attempt) else {
            throw APIError.notFound("\(what) of job \(id)\(attempt.map { " attempt \($0)" } ?? "")")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Freezes a running job's bot; 409 unless the job is running.
    @Sendable func pause(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        switch try await store.pause(jobID: id) {
        case .paused(let job):
            return try JSONResponse.make(job)
        case .notFound:
            throw APIError.notFound("job \(id)")
        case .notRunning(let state):
            throw APIError.conflict("job \(id) is \(state.rawValue); only a running job can be paused")
        }
    }

    /// Thaws a paused job's bot; 409 unless the job is paused.
    @Sendable func resume(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        switch try await store.resume(jobID: id) {
        case .resumed(let job):
            return try JSONResponse.make(job)
        case .notFound:
            throw APIError.notFound("job \(id)")
        case .notPaused(let state):
            throw APIError.conflict("job \(id) is \(state.rawValue); only a paused job can be resumed")
        }
    }

    @Sendable func cancel(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        switch try await store.cancel(jobID: id, reason: "cancelled through the API") {
        case .cancelled(let job):
            robotQueueSignal.notify()
            return try JSONResponse.make(job)
        case .notFound:
            throw APIError.notFound("job \(id)")
        case .alreadyFinished(let state):
            throw APIError.conflict("job \(id) already ended as \(state.rawValue)")
        }
    }

    static func jobID(_ context: APIRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw APIError.invalid(["job id must be a positive number"]) }
        return id
    }
}
