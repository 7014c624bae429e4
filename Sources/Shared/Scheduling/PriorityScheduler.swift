/// Decides which priority a freed slot goes to.
///
/// The highest priority with work waiting starts next, except that every `reservedEvery`-th start
/// goes to a lower priority with work waiting, taking turns between them, so that a steady stream
/// of high-priority jobs never starves the others. With a backlog in all three and the default
/// of 1 in 10, starts split 90 % high, 5 % normal, 5 % low.
public struct PriorityScheduler: Sendable {
    /// One start in this many is reserved for lower priorities; 0 turns the reservation off.
    public let reservedEvery: Int
    private var startsSinceReserved = 0
    private var lowerTurn = 0

    public init(reservedEvery: Int = 10) {
        self.reservedEvery = reservedEvery
    }

    /// The priority to start now, given those with work waiting; nil when nothing waits.
    public mutating func next(waiting: Set<Priority>) -> Priority? {
        let candidates = Priority.descending.filter(waiting.contains)
        guard let highest = candidates.first else { return nil }
        let lower = Array(candidates.dropFirst())
        startsSinceReserved += 1
        guard reservedEvery > 0, startsSinceReserved >= reservedEvery, !lower.isEmpty else { return highest }
        startsSinceReserved = 0
        defer { lowerTurn += 1 }
        return lower[lowerTurn % lower.count]
    }
}
