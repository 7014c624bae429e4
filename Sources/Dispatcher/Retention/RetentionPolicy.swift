import Foundation

/// How long the store keeps what it no longer needs. A pass (``BotyardStore/applyRetention(_:at:batchSize:)``)
/// deletes, in small batches:
///
/// - jobs that ended `succeeded`, `failed`, `cancelled` or `rejected` longer than ``finishedJobs``
///   ago, with their history and logs — never `dead` jobs (kept until requeued or purged on
///   purpose), jobs of a pipeline or workflow run, a job with a child still stored, nor one with a
///   message still to publish;
/// - the logs of such jobs once older than ``jobLogs`` (the job itself stays);
/// - the ids of applied worker reports older than ``appliedEvents`` whose job has ended (a
///   report is applied once by its id: those of jobs that may still report are kept);
/// - workers not heard from for ``silentWorkers``;
/// - audit entries older than ``auditEntries``.
public struct RetentionPolicy: Sendable, Equatable {
    public var finishedJobs: TimeInterval
    public var jobLogs: TimeInterval
    public var appliedEvents: TimeInterval
    public var silentWorkers: TimeInterval
    public var auditEntries: TimeInterval

    public static let day: TimeInterval = 86_400

    /// 90 days of finished jobs, 30 of their logs, 14 of applied report ids, 7 of silent workers,
    /// 365 of the audit log.
    public init(finishedJobs: TimeInterval = 90 * day, jobLogs: TimeInterval = 30 * day,
                appliedEvents: TimeInterval = 14 * day, silentWorkers: TimeInterval = 7 * day,
                auditEntries: TimeInterval = 365 * day) {
        self.finishedJobs = finishedJobs
        self.jobLogs = jobLogs
        self.appliedEvents = appliedEvents
        self.silentWorkers = silentWorkers
        self.auditEntries = auditEntries
    }

    /// What a pass at `now` deletes: what ended, was applied or was last seen before these.
    struct Cutoffs: Equatable {
        var finishedJobs: Date
        var jobLogs: Date
        var appliedEvents: Date
        var silentWorkers: Date
        var auditEntries: Date
    }

    func cutoffs(at now: Date) -> Cutoffs {
        Cutoffs(finishedJobs: now - finishedJobs, jobLogs: now - min(jobLogs, finishedJobs),
                appliedEvents: now - appliedEvents, silentWorkers: now - silentWorkers,
                auditEntries: now - auditEntries)
    }

    /// What is wrong with the ages, for a clear refusal at start.
    public var problems: [String] {
        [("finished jobs", finishedJobs), ("job logs", jobLogs), ("applied events", appliedEvents),
         ("silent workers", silentWorkers), ("audit entries", auditEntries)]
            .filter { $0.1 < 3_600 }
            .map { "retention of \($0.0) must be at least an hour" }
    }
}

/// What one retention pass deleted.
public struct RetentionPass: Sendable, Equatable {
    public var jobs = 0
    public var jobLogs = 0
    public var appliedEvents = 0
    public var workers = 0
    public var auditEntries = 0

    var total: Int { jobs + jobLogs + appliedEvents + workers + auditEntries }
}
