import Foundation
import GRDB
import Shared

/// What a pause request found.
public enum PauseResult: Sendable {
    case paused(JobSnapshot)
    case notFound
    /// Only a running job can be paused.
    case notRunning(JobState)
}

/// What a resume request found.
public enum ResumeResult: Sendable {
    case resumed(JobSnapshot)
    case notFound
    /// Only a paused job can be resumed.
    case notPaused(JobState)
}

extension BotyardStore {
    /// Pauses a running job: `running` → `paused` with its history row, and the order to freeze its bot
    /// (SIGSTOP to its process group) for the worker that runs it, in one transaction.
    public func pause(jobID: Int64, reason: String = "paused through the API", at now: Date = Date()) async throws
        -> PauseResult
    {
        try await write("pause job") { db in
            guard var job = try JobRecord.fetch(id: jobID, in: db) else { return .notFound }
            guard job.state == .running else { return .notRunning(job.state) }
            try Self.transition(&job, to: .paused, attempt: job.attempts, reason: reason, at: now, in: db)
            try Self.enqueueControl(.init(command: .pause, jobID: jobID), routingKey: Self.controlRoutingKey(of: job),
                                    at: now, in: db)
            return .paused(job.snapshot())
        }
    }

    /// Resumes a paused job: `paused` → `running` with its history row, and the order to thaw its bot
    /// (SIGCONT), in one transaction.
    public func resume(jobID: Int64, reason: String = "resumed through the API", at now: Date = Date()) async throws
        -> ResumeResult
    {
        try await write("resume job") { db in
            guard var job = try JobRecord.fetch(id: jobID, in: db) else { return .notFound }
            guard job.state == .paused else { return .notPaused(job.state) }
            try Self.transition(&job, to: .running, attempt: job.attempts, reason: reason, at: now, in: db)
            try Self.enqueueControl(.init(command: .resume, jobID: jobID), routingKey: Self.controlRoutingKey(of: job),
                                    at: now, in: db)
            return .resumed(job.snapshot())
        }
    }

    /// The worker that runs the job, or every worker of its group when none is known.
    private static func controlRoutingKey(of job: JobRecord) -> String {
        job.workerID.map { Topology.controlRoutingKey(workerID: $0) } ?? Topology.controlRoutingKey(group: job.group)
    }
}
