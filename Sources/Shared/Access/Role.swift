/// What a caller of the HTTP API may do. Each role may do everything the roles below it may.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    /// Reads: jobs, logs, the fleet, queues, definitions, metrics.
    case viewer
    /// Runs things: submits, cancels, pauses and resumes jobs, requeues dead ones, starts runs,
    /// adds and settles work items.
    case `operator`
    /// Changes definitions (bots, groups, queues, triggers, schedules, pipelines, workflows),
    /// credentials and tokens, and reads the audit log.
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// Whether a caller of this role may call a route that needs `required`.
    public func allows(_ required: Role) -> Bool { self >= required }
}
