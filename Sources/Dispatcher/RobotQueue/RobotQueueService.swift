import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Tries the robot queue again whenever an event made entries due: woken by the event consumer
/// (a run finished, a host or account came up) and by the credentials API, and by the clock
/// when an entry that an event made due has waited out its wait.
final class RobotQueueService: Service {
    private let store: BotyardStore
    private let signal: WakeSignal
    private let relaySignal: WakeSignal
    private let logger: Logger

    init(store: BotyardStore, signal: WakeSignal, relaySignal: WakeSignal, logger: Logger) {
        self.store = store
        self.signal = signal
        self.relaySignal = relaySignal
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var timeout = Duration.seconds(60)
                do {
                    let pass = try self.store.retryRobotQueue()
                    if pass.dispatched + pass.dead > 0 {
                        self.logger.info("robot queue tried", metadata: [
                            "robot_queue.dispatched": "\(pass.dispatched)", "robot_queue.dead": "\(pass.dead)",
                        ])
                        self.relaySignal.notify()
                    }
                    if let next = pass.nextTry {
                        timeout = .milliseconds(max(10, Int(next.timeIntervalSinceNow * 1000) + 10))
                    }
                } catch {
                    self.logger.error("cannot try the robot queue; will retry", metadata: ["error": "\(error)"])
                    timeout = .seconds(1)
                }
                await self.signal.wait(timeout: timeout)
            }
        }
    }
}
