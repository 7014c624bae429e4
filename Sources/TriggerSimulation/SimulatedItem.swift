/// One work item in a simulation and what happened to it.
public struct SimulatedItem: Sendable, Equatable {
    public var addedAt: Double
    /// When its postponement ends; `addedAt` when it was not postponed.
    public var readyAt: Double
    public var processingSeconds: Double
    /// How many times a job claimed it (never more than once: claims do not fail here).
    public var claims = 0
    public var claimedAt: Double?
    /// The index of the job that claimed it.
    public var claimedBy: Int?
    public var doneAt: Double?

    /// From ready to claimed; nil while unclaimed.
    public var waitSeconds: Double? { claimedAt.map { $0 - readyAt } }
}
