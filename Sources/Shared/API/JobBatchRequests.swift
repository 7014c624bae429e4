/// `POST /v1/jobs/batch`: many jobs in one request, stored all together or not at all.
public struct SubmitJobBatchRequest: Codable, Sendable {
    public var jobs: [SubmitJobRequest]

    public init(jobs: [SubmitJobRequest]) {
        self.jobs = jobs
    }

    /// The most jobs one batch may hold.
    public static let maximumJobs = 1_000

    /// Problems with the batch and its entries on their own, each entry's named by its index
    /// (`jobs[3]: bot must be a valid name`); whether the bots exist is the dispatcher's to check.
    public var problems: [String] {
        guard !jobs.isEmpty else { return ["jobs must hold at least one job"] }
        guard jobs.count <= Self.maximumJobs else {
            return ["a batch may hold at most \(Self.maximumJobs) jobs, not \(jobs.count)"]
        }
        return jobs.enumerated().flatMap { index, job in job.problems.map { "jobs[\(index)]: \($0)" } }
    }
}

/// `201 Created` answer to `POST /v1/jobs/batch`: the jobs in the order they were sent, each
/// `pending` (or `rejected`, when its admission mode found no slot).
public struct JobBatchCreated: Codable, Sendable {
    public var jobs: [JobCreated]

    public init(jobs: [JobCreated]) {
        self.jobs = jobs
    }
}
