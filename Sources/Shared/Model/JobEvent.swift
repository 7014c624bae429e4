import Foundation

/// What a worker reports about a job on `botyard.events`.
///
/// Events are applied idempotently by ``eventID``: the broker may deliver one twice.
public struct JobEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case started
        case finished
    }

    public var eventID: String
    public var kind: Kind
    public var jobID: Int64
    public var attempt: Int
    public var workerID: String
    public var host: String
    public var account: String?
    public var at: Date
    /// Present on `finished`.
    public var outcome: JobOutcome?

    public init(
        eventID: String = UUID().uuidString,
        kind: Kind,
        jobID: Int64,
        attempt: Int,
        workerID: String,
        host: String,
        account: String?,
        at: Date = Date(),
        outcome: JobOutcome? = nil
    ) {
        self.eventID = eventID
        self.kind = kind
        self.jobID = jobID
        self.attempt = attempt
        self.workerID = workerID
        self.host = host
        self.account = account
        self.at = at
        self.outcome = outcome
    }

    /// The routing key in `botyard.events`: `job.<kind>`.
    public var routingKey: String { "job.\(kind.rawValue)" }
}
