/// The priority a job is queued with; each priority has its own queue per runner group.
public enum Priority: String, Codable, Sendable, CaseIterable, Comparable {
    case high
    case normal
    case low

    /// Highest first: the order in which a freed slot looks at the queues.
    public static let descending: [Priority] = [.high, .normal, .low]

    private var rank: Int {
        switch self {
        case .high: 0
        case .normal: 1
        case .low: 2
        }
    }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank > rhs.rank }
}
