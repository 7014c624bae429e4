import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Publishes the outbox: every message the store committed, with publisher confirms, deleting
/// each row only after the broker's ack.
///
/// A crash between storing and publishing leaves the row behind, and the next relay (after a
/// restart, or once the broker is back) publishes it: nothing is lost. A crash between the
/// broker's ack and the delete publishes the row twice; the copy may run, but only the run the
/// dispatcher saw start last counts, and a copy of an attempt already judged is ignored. So the
/// delete needs no commit of its own: it rides in the store's next one (a job's `started`
/// report, the next submission), and the rows waiting for it are not sent again meanwhile.
final class OutboxRelay: Service {
    private let store: BotyardStore
    private let reconnector: Reconnector
    /// Counts failed publishes and connections.
    private let metrics: DispatcherMetrics
    /// Woken by every commit that adds outbox rows (``OutboxFeed``), and once a second.
    private let signal = WakeSignal()
    private let batchSize: Int
    private let window: Int
    private let settling = SettlingRows()
    private let settlement: OutboxSettlement
    private let logger: Logger

    /// - Parameters:
    ///   - batchSize: rows read and published together, as one confirm window.
    ///   - window: batches waiting for their confirms at once; the next batch goes out meanwhile.
    init(store: BotyardStore, amqpURL: AMQPURL, batchSize: Int, window: Int = 4, metrics: DispatcherMetrics,
         logger: Logger) {
        self.metrics = metrics
        self.store = store
        self.reconnector = Reconnector(dispatcherConnection: "publish", url: amqpURL, metrics: metrics,
                                       logger: logger)
        store.outboxFeed.subscribe(signal)
        self.batchSize = batchSize
        self.window = window
        self.settlement = OutboxSettlement(store: store, settling: settling, metrics: metrics, logger: logger)
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // The relay looks from the oldest row at least once a second, in case one was left
                // behind: one timer for the relay, not one for each of its waits.
                group.addTask { await self.signal.notify(every: .seconds(1)) }
                await self.reconnector.run { connection in try await self.relay(on: connection) }
                group.cancelAll()
            }
        }
    }

    private static func openChannel(on connection: AMQPConnection) async throws -> AMQPChannel {
        let channel = try await connection.openChannel()
        try await TopologyDeclarer.declareCore(on: channel)
        try await channel.enableConfirms()
        return channel
    }

    /// Publishes the outbox in batches, keeping up to `window` of them waiting for their confirms
    /// (a sliding window, not stop-and-wait): the rows after the last one sent are read and sent
    /// while earlier batches are confirmed and deleted. A read that found less than a batch
    /// drained the outbox: after that, the rows each commit adds come from the store's feed
    /// (``OutboxFeed``), without a read, until the feed misses some. A row that did not go out
    /// (refused declaration, nack, or a failed delete) makes the relay start over from the oldest
    /// row once nothing is in flight, after a pause; so does the first wake after a second. Idle,
    /// the relay has the commits publish their rows themselves until it wakes (``CommitPublisher``).
    private func relay(on connection: AMQPConnection) async throws {
        var channel = try await Self.openChannel(on: connection)
        var topology = DeclaredTopology()
        var inFlight: [(rows: [OutboxRecord], batch: PublishedBatch)] = []
        var cursor: Int64 = 0
        var startOver = false
        var drained = false
        // The wait that ended took the news that ended it.
        var woken = false
        var lastFromTheOldest = ContinuousClock.now
        while !Task.isCancelled {
            if inFlight.count < window && !startOver && (!drained || woken || signal.takeNotification()) {
                woken = false
                // Taken before the read: a row whose deletion committed after it was taken may
                // still be in what the read sees, and is left out all the same.
                let settlingIDs = settling.ids
                let rows: [OutboxRecord]
                if drained, let committed = store.outboxFeed.take(after: cursor) {
                    rows = committed
                } else {
                    // What the feed holds now, the read sees too: kept, it would come again once the
                    // cursor went back to the oldest row.
                    store.outboxFeed.clear()
                    rows = await unsent(after: cursor)
                    drained = rows.count < batchSize
                }
                if let last = rows.last?.id {
                    cursor = last
                    let unsettled = rows.filter { !settlingIDs.contains($0.id ?? -1) }
                    let ready = try await prepare(unsettled, channel: &channel, topology: &topology)
                    if ready.count < unsettled.count { startOver = true }
                    inFlight.append((ready, channel.send(ready.map(\.message))))
                    continue
                }
            }
            if settling.takeFailure() {
                startOver = true
                // A row to send again (refused after it went out from its commit, or its deletion
                // failed): its queues are declared afresh, as a refused message's are.
                topology = DeclaredTopology()
            }
            if !inFlight.isEmpty {
                let (rows, batch) = inFlight.removeFirst()
                if try await settle(rows, batch, topology: &topology) < rows.count { startOver = true }
            } else if startOver {
                startOver = false
                cursor = 0
                drained = false
                try await Task.sleep(for: .milliseconds(500))
            } else {
                await waitPublishingFromCommits(on: channel, topology: topology)
                woken = true
                // Now and then from the oldest row (woken at least once a second), in case one was left behind.
                if ContinuousClock.now - lastFromTheOldest >= .seconds(1) {
                    lastFromTheOldest = .now
                    cursor = 0
                    drained = false
                }
            }
        }
    }

    /// Up to `batchSize` rows after `cursor`, oldest first; none when the store cannot be read.
    private func unsent(after cursor: Int64) async -> [OutboxRecord] {
        do {
            return try await store.outbox(after: cursor, limit: batchSize)
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// The rows whose queues exist (declared now if this connection has not declared them yet).
    private func prepare(_ rows: [OutboxRecord], channel: inout AMQPChannel,
                         topology: inout DeclaredTopology) async throws -> [OutboxRecord] {
        var ready: [OutboxRecord] = []
        for row in rows {
            do {
                try await topology.prepare(for: row, on: channel)
                ready.append(row)
            } catch let error as AMQPError where error.code == .channelClosed {
                // The broker refused a declaration (e.g. a queue that exists with other arguments):
                // this message waits, the others go on, on a fresh channel.
                logger.error("cannot declare the queues of a message; it stays in the outbox", metadata: [
                    "job.id": "\(row.jobID)", "outbox.kind": "\(row.kind.rawValue)", "error": "\(error)",
                ])
                channel = try await Self.openChannel(on: channel.connection)
            }
        }
        return ready
    }

    /// Waits for news while the commits publish their rows themselves (drained, nothing in flight);
    /// returns once they have stopped.
    private func waitPublishingFromCommits(on channel: AMQPChannel, topology: DeclaredTopology) async {
        let publisher = CommitPublisher(channel: channel, topology: topology, settlement: settlement,
                                        relaySignal: signal)
        store.outboxFeed.publishFromCommits(publisher.publish)
        defer { store.outboxFeed.stopPublishingFromCommits() }
        await signal.wait()
    }

    /// Waits for a batch's confirms and has the confirmed rows deleted in the store's next
    /// commit; returns how many were confirmed.
    private func settle(_ rows: [OutboxRecord], _ batch: PublishedBatch,
                        topology: inout DeclaredTopology) async throws -> Int {
        let refused = settlement.settle(rows, try await batch.results())
        for row in refused { topology.forget(row) }
        return rows.count - refused.count
    }
}

/// Outbox rows the broker confirmed, or sent from their commit (``CommitPublisher``), whose
/// deletion has not committed yet: the relay does not send them again, unless their deletion fails
/// or the broker refused them.
final class SettlingRows: Sendable {
    private struct State {
        var ids: Set<Int64> = []
        var failed = false
    }

    private let state = Mutex(State())

    func add(_ rows: [OutboxRecord]) {
        state.withLock { $0.ids.formUnion(rows.compactMap(\.id)) }
    }

    /// Their deletion committed, or failed or the broker refused them (`failed`: they are to be sent
    /// again).
    func remove(_ rows: [OutboxRecord], failed: Bool) {
        state.withLock { state in
            state.ids.subtract(rows.compactMap(\.id))
            if failed { state.failed = true }
        }
    }

    /// The rows whose deletion is on its way.
    var ids: Set<Int64> { state.withLock { $0.ids } }

    /// Whether a deletion failed since the last call: the relay goes over the outbox again.
    func takeFailure() -> Bool {
        state.withLock { state in
            defer { state.failed = false }
            return state.failed
        }
    }
}

/// The queues this relay has declared on its current connection, so that each group's job
/// queues, each account's queue and each retry delay's TTL queue exist before a message is
/// routed to them.
struct DeclaredTopology {
    private var groups: Set<String> = []
    private var accountKeys: Set<String> = []
    private var retryDelays: Set<Int> = []

    /// The queues a row's message is routed to, which must exist before it goes: its group's job
    /// queues or its account's queue, and its retry delay's TTL queue. None for dead letters and
    /// control messages, whose queues are declared with the core topology.
    private struct Needed {
        var group: String?
        var accountKey: String?
        var retryDelay: Int?

        init(_ row: OutboxRecord) {
            guard row.kind == .dispatch || row.kind == .retry else { return }
            if Topology.accountQueue(routingKey: row.routingKey) != nil {
                accountKey = row.routingKey
            } else {
                group = String(row.routingKey.prefix { $0 != "." })
            }
            retryDelay = row.headers[Topology.retryDelayHeader].flatMap(Int.init)
        }
    }

    /// Whether `row`'s queues are declared: its message can go without ``prepare(for:on:)``.
    func isPrepared(for row: OutboxRecord) -> Bool {
        let needed = Needed(row)
        return (needed.group.map(groups.contains) ?? true)
            && (needed.accountKey.map(accountKeys.contains) ?? true)
            && (needed.retryDelay.map(retryDelays.contains) ?? true)
    }

    mutating func prepare(for row: OutboxRecord, on channel: AMQPChannel) async throws {
        let needed = Needed(row)
        if let key = needed.accountKey, !accountKeys.contains(key) {
            try await TopologyDeclarer.declareAccountQueue(routingKey: key, on: channel)
            accountKeys.insert(key)
        }
        if let group = needed.group, !groups.contains(group) {
            try await TopologyDeclarer.declareJobQueues(group: group, on: channel)
            groups.insert(group)
        }
        if let delay = needed.retryDelay, !retryDelays.contains(delay) {
            try await TopologyDeclarer.declareRetryQueue(delayMilliseconds: delay, on: channel)
            retryDelays.insert(delay)
        }
    }

    /// Declares again next time (the queue may have been deleted behind our back).
    mutating func forget(_ row: OutboxRecord) {
        let needed = Needed(row)
        if let group = needed.group { groups.remove(group) }
        if let key = needed.accountKey { accountKeys.remove(key) }
        if let delay = needed.retryDelay { retryDelays.remove(delay) }
    }
}
