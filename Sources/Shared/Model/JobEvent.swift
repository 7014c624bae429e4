import Foundation

/// What a worker reports about a job on `botyard.events`.
///
/// Events are applied idempotently by ``eventID``: the broker may deliver one twice. Every run
/// of a bot has its own ``runID``, shared by its `started` and `finished`: the dispatcher counts
/// only the outcome of the run it saw start last.
public struct JobEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case started
        case finished
        /// The worker stopped the bot at shutdown and gave the job back to its queue.
        case returned
        /// The worker could not give the job back: the broker deleted the queue its message came
        /// from, and the message with it (an operator deleted the queue while the worker held the
        /// delivery). The dispatcher sends the job again; `runID` is the stopped run's, or one that
        /// never started.
        case messageLost
        /// The account ran the cleanup command after this run was stopped or crashed; `outcome` is the
        /// cleanup's (its result, reason and log), not the bot's. The job's state does not change.
        case cleanedUp
    }

    public var eventID: String
    public var kind: Kind
    public var jobID: Int64
    /// The attempt number the bot was told (`BOTYARD_ATTEMPT`).
    public var attempt: Int
    /// The attempt the job's message was published for; a redelivered message keeps it.
    public var envelopeAttempt: Int
    /// Identifies one run of the bot.
    public var runID: String
    public var workerID: String
    public var host: String
    public var account: String?
    public var at: Date
    /// Present on `finished` (the bot's) and `cleanedUp` (the cleanup's).
    public var outcome: JobOutcome?
    /// On `finished`: when the run started. The start's report may not have come (a worker holds
    /// it for a while, and a run that ended meanwhile sends only its end): the dispatcher then
    /// counts the start from here.
    public var startedAt: Date?

    public init(
        eventID: String = UUID.timeOrdered().uuidString,
        kind: Kind,
        jobID: Int64,
        attempt: Int,
        envelopeAttempt: Int? = nil,
        runID: String,
        workerID: String,
        host: String,
        account: String?,
        at: Date = Date(),
        outcome: JobOutcome? = nil,
        startedAt: Date? = nil
    ) {
        self.eventID = eventID
        self.kind = kind
        self.jobID = jobID
        self.attempt = attempt
        self.envelopeAttempt = envelopeAttempt ?? attempt
        self.runID = runID
        self.workerID = workerID
        self.host = host
        self.account = account
        self.at = at
        self.outcome = outcome
        self.startedAt = startedAt
    }

    /// The routing key in `botyard.events`: `job.<kind>`.
    public var routingKey: String { "job.\(kind.rawValue)" }

    /// The routing key of a message that carries several reports, a JSON array of events.
    public static let batchRoutingKey = "job.batch"
}
