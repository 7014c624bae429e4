import Logging
import Shared

/// What becomes of outbox rows once the broker answered for their messages: the confirmed ones are
/// deleted in the store's next commit (and their jobs marked queued), each refused one is logged and
/// counted and stays, to go out again.
struct OutboxSettlement: Sendable {
    let store: BotyardStore
    let settling: SettlingRows
    let metrics: DispatcherMetrics
    let logger: Logger

    /// Settles `rows` by their messages' `results` (in the same order); returns the rows the broker
    /// did not confirm. Does not block: it may run on a connection's thread.
    func settle(_ rows: [OutboxRecord], _ results: [Result<Void, AMQPError>]) -> [OutboxRecord] {
        var confirmed: [OutboxRecord] = []
        var refused: [OutboxRecord] = []
        for (row, result) in zip(rows, results) {
            switch result {
            case .success:
                confirmed.append(row)
            case .failure(let error):
                metrics.brokerFailed(connection: "publish")
                logger.error("publish failed; will retry", metadata: [
                    "job.id": "\(row.jobID)", "outbox.kind": "\(row.kind.rawValue)", "error": "\(error)",
                ])
                refused.append(row)
            }
        }
        settling.add(confirmed)
        store.markPublishedDeferred(confirmed) { [settling, logger, confirmed] failure in
            // Published but still in the outbox: it goes out again, and the copy is a duplicate
            // that the message id identifies. Better than losing it.
            if let failure { logger.error("cannot mark messages published", metadata: ["error": "\(failure)"]) }
            settling.remove(confirmed, failed: failure != nil)
        }
        return refused
    }
}
