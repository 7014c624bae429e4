/// What can happen on the simulated clock.
enum SimulationEvent: Sendable, Equatable {
    /// Items (by index) are added to the queue, in one add.
    case itemsAdded(Range<Int>)
    /// These postponed items become ready.
    case postponementOver(Range<Int>)
    /// A job (by index) has started up and claims its first item.
    case startupFinished(job: Int)
    /// A job has finished its item and claims the next.
    case itemFinished(job: Int)
    /// The trigger's periodic recheck.
    case recheck
}
