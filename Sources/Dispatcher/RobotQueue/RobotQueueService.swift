import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Tries the robot queue again whenever an event made entries due: woken by the event consumer
/// (a run finished, an account came up), by the API (credentials changed, a job cancelled) and by
/// the clock when an entry that an event made due has waited out its wait. Every few seconds it
/// also takes back the launches dispatched to hosts that were lost before they started.
final class RobotQueueService: Service {
    private let store: BotyardStore
    private let signal: WakeSignal
    private let logger: Logger
    /// The longest sleep between passes: how late a stranded launch is noticed at most, after its
    /// host is shown as lost.
    private let sweepInterval: Duration

    init(store: BotyardStore, signal: WakeSignal, sweepInterval: Duration = .seconds(5),
         logger: Logger) {
        self.store = store
        self.signal = signal
        self.sweepInterval = sweepInterval
        self.logger = logger
    }

    func run() async throws {
        await runTimedPasses(signal: signal, longestSleep: sweepInterval, logger: logger,
                             failure: "cannot try the robot queue; will retry") {
            let returned = try await self.store.returnLaunchesOfLostHosts()
            if returned > 0 {
                self.logger.warning("launches of lost hosts back in the robot queue", metadata: [
                    "robot_queue.returned": "\(returned)",
                ])
            }
            let pass = try await self.store.retryRobotQueue()
            // A line per job it moved, so that every change of a job can be followed by its id.
            for job in pass.dispatchedJobs {
                self.logger.info("robot queue dispatched a launch", metadata: ["job.id": "\(job)"])
            }
            for job in pass.deadJobs {
                self.logger.warning("robot queue gave up on a launch", metadata: ["job.id": "\(job)"])
            }
            return pass.nextTry
        }
    }
}
