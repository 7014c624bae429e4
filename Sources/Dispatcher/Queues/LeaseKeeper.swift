import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Puts work items whose lease ran out back in their queue (or abandons them) when their lease
/// runs out — it sleeps until the next expiry, not for a fixed sweep interval. Woken by claims,
/// which may bring the next expiry closer.
final class LeaseKeeper: Service {
    private let store: BotyardStore
    private let signal: WakeSignal
    /// Wakes the outbox relay: items back in a queue may have made its trigger store jobs.
    private let relaySignal: WakeSignal
    private let logger: Logger
    /// The longest sleep: a lease given while the keeper sleeps wakes it anyway.
    private let longestSleep: Duration

    init(store: BotyardStore, signal: WakeSignal, relaySignal: WakeSignal, longestSleep: Duration = .seconds(60),
         logger: Logger) {
        self.store = store
        self.signal = signal
        self.relaySignal = relaySignal
        self.longestSleep = longestSleep
        self.logger = logger
    }

    func run() async throws {
        await runTimedPasses(signal: signal, longestSleep: longestSleep, logger: logger,
                             failure: "cannot expire leases; will retry") {
            let pass = try self.store.expireLeases()
            if pass.expired > 0 {
                self.relaySignal.notify()
                self.logger.info("work item leases expired", metadata: ["items.expired": "\(pass.expired)"])
            }
            return pass.next
        }
    }
}
