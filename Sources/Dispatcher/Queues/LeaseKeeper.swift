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
    private let logger: Logger
    /// The longest sleep: a lease given while the keeper sleeps wakes it anyway.
    private let longestSleep: Duration

    init(store: BotyardStore, alarm: LeaseAlarm, longestSleep: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.alarm = alarm
        self.longestSleep = longestSleep
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var timeout = self.longestSleep
                self.alarm.passStarts()
                do {
                    let pass = try self.store.expireLeases()
                    if pass.expired > 0 {
                        self.logger.info("work item leases expired", metadata: ["items.expired": "\(pass.expired)"])
                    }
                    if let next = pass.next {
                        timeout = min(timeout, .milliseconds(max(10, Int(next.timeIntervalSinceNow * 1000) + 10)))
                    }
                } catch {
                    self.logger.error("cannot expire leases; will retry", metadata: ["error": "\(error)"])
                    timeout = .seconds(1)
                }
                self.alarm.passEnds(nextPassAt: Date().addingTimeInterval(timeout.seconds))
                await self.alarm.signal.wait(timeout: timeout)
            }
        }
    }
}
