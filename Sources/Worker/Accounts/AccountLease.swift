import Shared

/// The broker-held right to serve one account: an exclusive queue named after host and account.
///
/// The broker lets one connection hold an exclusive queue and deletes it when that connection
/// closes, so a second worker process claiming the account is refused (`405 RESOURCE_LOCKED`)
/// until the first one stops or dies, and then its next claim succeeds.
enum AccountLease {
    /// Another connection holds the account.
    struct Refused: Error, CustomStringConvertible {
        var host: String
        var account: String
        var description: String {
            "account \(account) on host \(host) is served by another worker process "
                + "(the broker holds the lease queue \(Topology.leaseQueue(host: host, account: account)) for it)"
        }
    }

    /// Claims `account` for the connection of `channel`; held until that connection closes.
    ///
    /// - Throws: ``Refused`` when another connection holds it; the channel is closed then.
    static func claim(host: String, account: String, on channel: AMQPChannel) async throws {
        do {
            try await channel.declareQueue(Topology.leaseQueue(host: host, account: account), durable: false,
                                           exclusive: true, autoDelete: true)
        } catch let error as AMQPError where error.replyCode == resourceLocked {
            throw Refused(host: host, account: account)
        }
    }

    private static let resourceLocked: UInt16 = 405
}
