import Synchronization

/// The queue a consumer takes deliveries from, and whether the broker has deleted it since (it
/// says so by cancelling the consumer).
///
/// A delivery from a deleted queue cannot be handed back: rejected with requeue, or left on a
/// channel that closes, its message is gone with the queue. The worker tells the dispatcher
/// instead (a `messageLost` report), which sends the job again.
final class ConsumedQueue: Sendable {
    let name: String
    private let deleted = Atomic<Bool>(false)

    init(name: String) {
        self.name = name
    }

    /// The broker deleted the queue after this consumer's deliveries were taken.
    var isDeleted: Bool { deleted.load(ordering: .acquiring) }

    func markDeleted() {
        deleted.store(true, ordering: .releasing)
    }
}
