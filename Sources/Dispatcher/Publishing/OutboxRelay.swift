import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Publishes the outbox: every message the store committed, with publisher confirms, deleting
/// each row only after the broker's ack.
///
/// A crash between storing and publishing leaves the row behind, and the next relay (after a
/// restart, or once the broker is back) publishes it: nothing is lost. A crash between the
/// broker's ack and the delete publishes the row twice; the copy may run, but only the run the
/// dispatcher saw start last counts, and a copy of an attempt already judged is ignored.
final class OutboxRelay: Service {
    private let store: BotyardStore
    private let reconnector: Reconnector
    private let signal: WakeSignal
    private let batchSize: Int
    private let logger: Logger

    init(store: BotyardStore, amqpURL: AMQPURL, signal: WakeSignal, batchSize: Int, logger: Logger) {
        self.store = store
        self.reconnector = Reconnector(url: amqpURL, connectionName: "botyard-dispatcher publish", logger: logger)
        self.signal = signal
        self.batchSize = batchSize
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.reconnector.run { connection in
                var channel = try await Self.openChannel(on: connection)
                var topology = DeclaredTopology()
                while !Task.isCancelled {
                    let published = try await self.publishBatch(on: &channel, topology: &topology)
                    if published == 0 { await self.signal.wait(timeout: .seconds(1)) }
                }
            }
        }
    }

    private static func openChannel(on connection: AMQPConnection) async throws -> AMQPChannel {
        let channel = try await connection.openChannel()
        try await TopologyDeclarer.declareCore(on: channel)
        try await channel.enableConfirms()
        return channel
    }

    /// Publishes one batch; returns how many rows it published (0 when the outbox was empty, or
    /// nothing could go out).
    private func publishBatch(on channel: inout AMQPChannel, topology: inout DeclaredTopology) async throws -> Int {
        let rows: [OutboxRecord]
        do {
            rows = try store.outbox(limit: batchSize)
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
            return 0
        }
        guard !rows.isEmpty else { return 0 }
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
        let results = try await channel.publish(ready.map(\.message))
        var confirmed: [OutboxRecord] = []
        for (row, result) in zip(ready, results) {
            switch result {
            case .success:
                confirmed.append(row)
            case .failure(let error):
                logger.error("publish failed; will retry", metadata: [
                    "job.id": "\(row.jobID)", "outbox.kind": "\(row.kind.rawValue)", "error": "\(error)",
                ])
                topology.forget(row)
            }
        }
        do {
            try store.markPublished(confirmed)
        } catch {
            // Published but still in the outbox: it goes out again, and the copy is a duplicate
            // that the message id identifies. Better than losing it.
            logger.error("cannot mark messages published", metadata: ["error": "\(error)"])
        }
        if confirmed.count < rows.count { try await Task.sleep(for: .milliseconds(500)) }
        return confirmed.count
    }
}

/// The queues this relay has declared on its current connection, so that each group's job
/// queues, each account's queue and each retry delay's TTL queue exist before a message is
/// routed to them.
struct DeclaredTopology {
    private var groups: Set<String> = []
    private var accountKeys: Set<String> = []
    private var retryDelays: Set<Int> = []

    mutating func prepare(for row: OutboxRecord, on channel: AMQPChannel) async throws {
        switch row.kind {
        case .dispatch, .retry:
            if Topology.accountQueue(routingKey: row.routingKey) != nil {
                if !accountKeys.contains(row.routingKey) {
                    try await TopologyDeclarer.declareAccountQueue(routingKey: row.routingKey, on: channel)
                    accountKeys.insert(row.routingKey)
                }
            } else {
                let group = String(row.routingKey.prefix { $0 != "." })
                if !groups.contains(group) {
                    try await TopologyDeclarer.declareJobQueues(group: group, on: channel)
                    groups.insert(group)
                }
            }
            if let delay = row.headers[Topology.retryDelayHeader].flatMap(Int.init), !retryDelays.contains(delay) {
                try await TopologyDeclarer.declareRetryQueue(delayMilliseconds: delay, on: channel)
                retryDelays.insert(delay)
            }
        case .dead, .control:
            return
        }
    }

    /// Declares again next time (the queue may have been deleted behind our back).
    mutating func forget(_ row: OutboxRecord) {
        groups.remove(String(row.routingKey.prefix { $0 != "." }))
        accountKeys.remove(row.routingKey)
        if let delay = row.headers[Topology.retryDelayHeader].flatMap(Int.init) { retryDelays.remove(delay) }
    }
}
