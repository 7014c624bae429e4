import Foundation
import Logging
import ServiceLifecycle
import Shared

/// The loop of a service that does its work in passes until graceful shutdown: after a pass it
/// sleeps until the time the pass names as next (at most `longestSleep`), or until `signal`
/// wakes it; a pass that fails is logged as `failure` and tried again a second later.
/// `passStarts` is told before each pass, `sleeps` until when the loop then sleeps.
func runTimedPasses(signal: WakeSignal, longestSleep: Duration, logger: Logger, failure: Logger.Message,
                    passStarts: @escaping @Sendable () -> Void = {},
                    sleeps: @escaping @Sendable (Date) -> Void = { _ in },
                    _ pass: @escaping @Sendable () async throws -> Date?) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            var timeout = longestSleep
            passStarts()
            do {
                if let next = try await pass() {
                    timeout = min(timeout, .milliseconds(max(10, Int(next.timeIntervalSinceNow * 1000) + 10)))
                }
            } catch {
                logger.error(failure, metadata: ["error": "\(error)"])
                timeout = .seconds(1)
            }
            sleeps(Date().addingTimeInterval(Double(timeout.components.seconds)
                + Double(timeout.components.attoseconds) / 1e18))
            await signal.wait(timeout: timeout)
        }
    }
}
