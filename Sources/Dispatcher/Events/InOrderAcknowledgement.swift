import Synchronization

/// Acknowledges batches of deliveries in the order they arrived, each only once its reports are
/// stored, when batches are stored out of that order.
///
/// The event consumer waits for no batch before it queues the next for the store. Queued in order,
/// they are stored in order nearly always, but not always: a batch the store refused is tried
/// again after later ones, and a flood of batches that wait for company takes at most half a
/// transaction's room, so a later batch that commits at once may commit first. One `basic.ack`
/// with `multiple` covers every earlier delivery of the channel, so the later batch's ack is held
/// until every batch before it is stored too, and then one ack covers them all.
final class InOrderAcknowledgement<Delivery: Sendable>: Sendable {
    private struct State {
        /// The ticket of the oldest batch not acknowledged yet.
        var nextToAcknowledge = 0
        /// The ticket the next batch gets.
        var nextTicket = 0
        /// Stored batches waiting for an older one: ticket → the batch's last delivery.
        var stored: [Int: Delivery] = [:]
    }

    private let state = Mutex(State())
    private let acknowledge: @Sendable (_ last: Delivery) -> Void

    /// - Parameter acknowledge: acknowledges `last` and every delivery before it (`multiple`). It is
    ///   called under the lock, so that two acknowledgements never cross: it must not block.
    init(acknowledge: @escaping @Sendable (_ last: Delivery) -> Void) {
        self.acknowledge = acknowledge
    }

    /// A batch's place in the order, taken when it arrives.
    func ticket() -> Int {
        state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
    }

    /// The batch of `ticket`, whose last delivery is `last`, is stored: it is acknowledged with
    /// every stored batch after it, once every batch before it is.
    func stored(_ ticket: Int, last: Delivery) {
        state.withLock { state in
            state.stored[ticket] = last
            var due: Delivery?
            while let next = state.stored.removeValue(forKey: state.nextToAcknowledge) {
                due = next
                state.nextToAcknowledge += 1
            }
            if let due { acknowledge(due) }
        }
    }
}
