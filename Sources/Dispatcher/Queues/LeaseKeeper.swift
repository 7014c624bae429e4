import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Puts work items whose lease ran out back in their queue (or abandons them) when their lease
/// runs out — it sleeps until the next expiry, not for a fixed sweep interval. Woken by claims
/// whose lease runs out before its next pass (``LeaseAlarm``).
final class LeaseKeeper: Service {
    private let store: BotyardStore
    private let alarm: LeaseAlarm
    /// Wakes the robot queue: items back in a queue may have made its trigger store jobs.
    private let robotQueueSignal: WakeSignal
    private let logger: Logger
    /// The longest sleep: a lease given while the keeper sleeps wakes it anyway.
    private let longestSleep: Duration

    init(store: BotyardStore, alarm: LeaseAlarm, robotQueueSignal: WakeSignal,
         longestSleep: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.alarm = alarm
        self.robotQueueSignal = robotQueueSignal
        self.longestSleep = longestSleep
        self.logger = logger
    }

    func run() async throws {
        await runTimedPasses(signal: alarm.signal, longestSleep: longestSleep, logger: logger,
                             failure: "cannot expire leases; will retry", passStarts: alarm.passStarts,
                             sleeps: alarm.passEnds(nextPassAt:)) {
            let pass = try await self.store.expireLeases()
            if pass.expired > 0 {
                self.robotQueueSignal.notify()
                self.logger.info("work item leases expired", metadata: ["items.expired": "\(pass.expired)"])
            }
            return pass.next
        }
    }
}
