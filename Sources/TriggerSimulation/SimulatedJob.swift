/// One job the trigger started, and what it did.
public struct SimulatedJob: Sendable, Equatable {
    /// When the trigger started it (it is pending from then on).
    public var createdAt: Double
    /// When a robot took it (it is running from then on).
    public var startedAt: Double?
    public var endedAt: Double?
    /// The index of the item it works on now.
    public var holding: Int?
    public var itemsDone = 0

    /// Started, ran, and ended without getting an item: its start-up was spent for nothing.
    public var wasOverScheduled: Bool { endedAt != nil && itemsDone == 0 }

    /// Seconds it held a robot.
    public var robotSeconds: Double {
        guard let startedAt, let endedAt else { return 0 }
        return endedAt - startedAt
    }
}
