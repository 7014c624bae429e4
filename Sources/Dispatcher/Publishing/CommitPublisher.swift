import Shared

/// Publishes the outbox rows of each commit from the store's writer, as the commit hands them over
/// (``OutboxFeed/publishFromCommits(_:)``), while the relay waits for news.
///
/// At a steady trickle of jobs each commit adds a row or two, and the relay's way with them was
/// two task wakes a job: one to take the commit's rows, one for the broker's confirm. From here the
/// rows go to the broker's connection straight from the commit, and their confirms are settled on
/// that connection's thread. Rows whose queues this connection has not declared yet are declined,
/// for the relay to declare and publish; a refusal or a lost connection wakes the relay, which goes
/// over the outbox again from its oldest row.
struct CommitPublisher: Sendable {
    let channel: AMQPChannel
    /// The queues the relay declared on this channel's connection.
    let topology: DeclaredTopology
    let settlement: OutboxSettlement
    /// Woken when a message did not go out.
    let relaySignal: WakeSignal

    /// Sends `rows`; false, sending none, when one of them needs its queues declared first.
    func publish(_ rows: [OutboxRecord]) -> Bool {
        guard rows.allSatisfy(topology.isPrepared(for:)) else { return false }
        guard !rows.isEmpty else { return true }
        // Before they go: the relay's reads leave them out while they are on their way.
        settlement.settling.add(rows)
        channel.send(rows.map(\.message)) { [settlement, relaySignal] outcome in
            let results: [Result<Void, AMQPError>]
            switch outcome {
            case .success(let fates): results = fates
            case .failure(let error): results = Array(repeating: .failure(error), count: rows.count)
            }
            let refused = settlement.settle(rows, results)
            guard !refused.isEmpty else { return }
            settlement.settling.remove(refused, failed: true)
            relaySignal.notify()
        }
        return true
    }
}
