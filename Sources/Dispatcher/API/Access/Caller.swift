import Shared

/// Who sent a request: the holder of an API token, or a bot calling with its job's token.
struct Caller: Sendable, Equatable {
    enum Identity: Sendable, Equatable {
        case token(APIToken)
        /// A job's token (`BOTYARD_JOB_TOKEN`), while the job has not ended.
        case job(Int64)
    }

    var identity: Identity

    /// A bot acts for its job as an operator: it submits child jobs and settles work items.
    var role: Role {
        switch identity {
        case .token(let token): token.role
        case .job: .operator
        }
    }

    /// The job whose bot is calling, if a bot is.
    var jobID: Int64? {
        if case .job(let id) = identity { return id }
        return nil
    }

    /// How the audit log and `GET /v1/me` name the caller.
    var name: String {
        switch identity {
        case .token(let token): token.name
        case .job(let id): "job \(id)"
        }
    }

    var auditName: String {
        switch identity {
        case .token(let token): "token \(token.name)"
        case .job(let id): "job \(id)"
        }
    }

    var summary: CallerSummary { CallerSummary(name: name, role: role, kind: jobID == nil ? .token : .job) }
}
