/// The steps of a job inside a worker, each timed from the one before: the delivery arrives,
/// the admission gate lets it in, its bot is spawned and exits, its `finished` report is
/// confirmed by the broker, and its delivery's acknowledgement is handed to its connection.
public enum JobStage: String, CaseIterable, Codable, Sendable, CodingKeyRepresentable {
    /// Delivery → admitted (waiting for a slot, an account's limit, a UI lock).
    case admitted
    /// Admitted → the bot's process spawned.
    case spawned
    /// Spawned → the bot exited (its own run time).
    case exited
    /// Exited → the `finished` report confirmed.
    case reported
    /// Reported → the delivery's acknowledgement handed to its connection's thread (which sends it
    /// on its next pass; the job's slot is free from here).
    case acked

    /// The stage in words, for tables.
    public var title: String {
        switch self {
        case .admitted: "delivery → admitted"
        case .spawned: "admitted → spawned"
        case .exited: "spawned → exited"
        case .reported: "exited → reported"
        case .acked: "reported → acked"
        }
    }
}
