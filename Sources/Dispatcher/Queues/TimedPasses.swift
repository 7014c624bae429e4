import Foundation
import Logging
import ServiceLifecycle
import Shared

/// The loop of a service that does its work in passes until graceful shutdown: after a pass it
/// sleeps until the time the pass names as next (at most `longestSleep`), or until `signal`
/// wakes it; a pass that fails is logged as `failure` and tried again a second later.
func runTimedPasses(signal: WakeSignal, longestSleep: Duration, logger: Logger, failure: Logger.Message,
                    _ pass: @escaping @Sendable () throws -> Date?) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            var timeout = longestSleep
            do {
                if let next = try pass() {
                    timeout = min(timeout, .milliseconds(max(10, Int(next.timeIntervalSinceNow * 1000) + 10)))
                }
            } catch {
                logger.error(failure, metadata: ["error": "\(error)"])
                timeout = .seconds(1)
            }
            await signal.wait(timeout: timeout)
        }
    }
}
