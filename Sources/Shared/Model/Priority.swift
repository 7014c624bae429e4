/// The priority a job is queued with; each priority has its own queue per runner group.
public enum Priority: String, Codable, Sendable, CaseIterable {
    case high
    case normal
    case low

    /// Highest first: the order in which a freed slot looks at the queues.
    public static let descending: [Priority] = [.high, .normal, .low]
}
