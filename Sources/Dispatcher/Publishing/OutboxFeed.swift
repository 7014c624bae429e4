import GRDB
import Shared
import Synchronization

/// Hands the outbox relay the rows each commit added to the outbox, read on the writer's
/// connection right after the commit, so that the relay need not read back what was just written:
/// a hop to a reader connection and back (two thread wakes, and up to a millisecond of an idle
/// job's way to its worker) saved on every commit that publishes.
///
/// A commit that added more than `maximumRows` rows (a batch of submissions) is not read here, on
/// the store's one serial lane: the relay reads it on a reader connection as before. That, a read
/// that failed, or more than `capacity` rows the relay has not taken, leave a gap, and the relay's
/// next look reads the store from where it is. Every commit that added rows wakes the relay,
/// unless the relay, idle, has the feed publish them from the commit
/// (``publishFromCommits(_:)``): then the rows go to the broker from the writer's thread, without
/// waking a task.
final class OutboxFeed: TransactionObserver, Sendable {
    /// Publishes a commit's rows from the writer's thread, or declines them (false) for the relay
    /// to publish: it must not block.
    typealias PublishRows = @Sendable (_ rows: [OutboxRecord]) -> Bool

    private struct State {
        var rows: [OutboxRecord] = []
        /// Rows were committed that `rows` lacks.
        var gap = false
        var subscriber: WakeSignal?
        /// Publishes each commit's rows while the relay waits.
        var publisher: PublishRows?
    }

    private let state = Mutex(State())
    /// The ids of the rows inserted by the transaction under way (on the writer's queue only).
    private let inserted = Mutex<[Int64]>([])
    private let maximumRows: Int
    private let capacity: Int

    /// - Parameters:
    ///   - maximumRows: rows a commit may add and still be read here.
    ///   - capacity: rows kept for the relay at most.
    init(maximumRows: Int = 32, capacity: Int = 1_000) {
        self.maximumRows = maximumRows
        self.capacity = capacity
    }

    /// Wakes `signal` after every commit that added rows.
    func subscribe(_ signal: WakeSignal) {
        state.withLock { $0.subscriber = signal }
    }

    /// Takes the rows committed since the last take, those after row `cursor`; nil when some are
    /// missing (the store is to be read from `cursor`).
    func take(after cursor: Int64) -> [OutboxRecord]? {
        state.withLock { state in
            defer {
                state.rows.removeAll(keepingCapacity: true)
                state.gap = false
            }
            return state.gap ? nil : state.rows.filter { ($0.id ?? 0) > cursor }
        }
    }

    /// Has `publish` publish the rows of each commit from here on, as the commit hands them over,
    /// until ``stopPublishingFromCommits()``, or until a commit's rows cannot be (too many to read
    /// here, or declined by `publish`): those and all after them are the relay's again, in order.
    /// Not taken (false) while committed rows wait for the relay, which publishes those first.
    @discardableResult
    func publishFromCommits(_ publish: @escaping PublishRows) -> Bool {
        state.withLock { state in
            guard state.rows.isEmpty, !state.gap else { return false }
            state.publisher = publish
            return true
        }
    }

    /// The relay publishes the rows of the commits from here on; returns once no commit publishes
    /// any more.
    func stopPublishingFromCommits() {
        state.withLock { $0.publisher = nil }
    }

    /// Forgets the rows not taken, before the relay reads the store (which has them all).
    func clear() {
        state.withLock { state in
            state.rows.removeAll(keepingCapacity: true)
            state.gap = false
        }
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == OutboxRecord.databaseTableName }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {
        inserted.withLock { $0.append(event.rowID) }
    }

    func databaseDidRollback(_ db: Database) {
        inserted.withLock { $0.removeAll(keepingCapacity: true) }
    }

    func databaseDidCommit(_ db: Database) {
        let ids = inserted.withLock { ids in
            defer { ids.removeAll(keepingCapacity: true) }
            return ids
        }
        guard let first = ids.min() else { return }
        // Ids only grow (`AUTOINCREMENT`), and this connection is the only writer: every row from
        // the first one on is this commit's (those a savepoint rolled back are simply absent).
        let committed = ids.count > maximumRows
            ? nil : try? BotyardStore.outbox(after: first - 1, limit: ids.count, in: db)
        // Published from here under the lock, so that once the relay stopped it no commit still does.
        let subscriber = state.withLock { state -> WakeSignal? in
            if let publish = state.publisher {
                if let committed, publish(committed) { return nil }
                state.publisher = nil
            }
            if let committed, !state.gap, state.rows.count + committed.count <= capacity {
                state.rows += committed
            } else {
                state.rows.removeAll()
                state.gap = true
            }
            return state.subscriber
        }
        subscriber?.notify()
    }
}
