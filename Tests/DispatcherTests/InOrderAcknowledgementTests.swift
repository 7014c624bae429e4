import Synchronization
import Testing

@testable import Dispatcher

@Suite("Event deliveries acknowledged in the order they came, each batch once stored")
struct InOrderAcknowledgementTests {
    /// The deliveries acknowledged, in order (each stands for itself and every one before it).
    final class Acknowledged: Sendable {
        private let tags = Mutex<[Int]>([])
        var all: [Int] { tags.withLock { $0 } }
        func record(_ tag: Int) { tags.withLock { $0.append(tag) } }
    }

    static func make() -> (InOrderAcknowledgement<Int>, Acknowledged) {
        let acknowledged = Acknowledged()
        return (InOrderAcknowledgement { acknowledged.record($0) }, acknowledged)
    }

    @Test("batches stored in the order they came are each acknowledged at once")
    func inOrder() {
        let (acknowledgement, acknowledged) = Self.make()
        let first = acknowledgement.ticket(), second = acknowledgement.ticket()
        acknowledgement.stored(first, last: 3)
        #expect(acknowledged.all == [3])
        acknowledgement.stored(second, last: 5)
        #expect(acknowledged.all == [3, 5])
    }

    @Test("a batch stored before an older one waits for it, and then one acknowledgement covers both")
    func laterBatchWaitsForTheOlder() {
        let (acknowledgement, acknowledged) = Self.make()
        let starts = acknowledgement.ticket(), end = acknowledgement.ticket()
        acknowledgement.stored(end, last: 9)
        #expect(acknowledged.all.isEmpty, "the starts before it are not stored yet")
        acknowledgement.stored(starts, last: 4)
        #expect(acknowledged.all == [9])
    }

    @Test("only the run of stored batches from the oldest is acknowledged; a gap holds the rest")
    func gapHoldsTheRest() {
        let (acknowledgement, acknowledged) = Self.make()
        let tickets = (0..<4).map { _ in acknowledgement.ticket() }
        acknowledgement.stored(tickets[0], last: 1)
        acknowledgement.stored(tickets[2], last: 3)
        acknowledgement.stored(tickets[3], last: 4)
        #expect(acknowledged.all == [1])
        acknowledgement.stored(tickets[1], last: 2)
        #expect(acknowledged.all == [1, 4])
    }

    @Test("batches stored from many threads at once are acknowledged in ascending order, the last one last")
    func concurrentStoresNeverCross() async {
        let (acknowledgement, acknowledged) = Self.make()
        let tickets = (0..<2_000).map { _ in acknowledgement.ticket() }
        await withTaskGroup(of: Void.self) { group in
            for ticket in tickets.shuffled() {
                group.addTask { acknowledgement.stored(ticket, last: ticket) }
            }
        }
        #expect(acknowledged.all == acknowledged.all.sorted(), "the broker refuses a tag below one acked")
        #expect(Set(acknowledged.all).count == acknowledged.all.count)
        #expect(acknowledged.all.last == 1_999)
    }
}
