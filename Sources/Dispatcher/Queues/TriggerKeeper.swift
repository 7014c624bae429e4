import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Evaluates queue triggers when no request does: each one's periodic recheck, and an `exact`
/// trigger when a postponed item of its queue becomes ready. It sleeps until the next one is
/// due; saving a trigger or adding items wakes it, as they may bring that time closer.
final class TriggerKeeper: Service {
    private let store: BotyardStore
    private let signal: WakeSignal
    /// Wakes the robot queue when an evaluation stored jobs.
    private let robotQueueSignal: WakeSignal
    private let logger: Logger
    private let longestSleep: Duration

    init(store: BotyardStore, signal: WakeSignal, robotQueueSignal: WakeSignal,
         longestSleep: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.signal = signal
        self.robotQueueSignal = robotQueueSignal
        self.longestSleep = longestSleep
        self.logger = logger
    }

    func run() async throws {
        await runTimedPasses(signal: signal, longestSleep: longestSleep, logger: logger,
                             failure: "cannot evaluate queue triggers; will retry") {
            let pass = try await self.store.evaluateDueTriggers()
            if pass.jobsStarted > 0 {
                self.robotQueueSignal.notify()
                for (queue, jobs) in pass.startedJobs.sorted(by: { $0.key < $1.key }) {
                    self.logger.info("queue trigger started jobs", metadata: [
                        "queue.name": "\(queue)", "job.ids": "\(jobs.map(String.init).joined(separator: ","))",
                    ])
                }
                self.logger.info("queue triggers started jobs", metadata: [
                    "triggers.evaluated": "\(pass.evaluated)", "jobs.started": "\(pass.jobsStarted)",
                ])
            }
            return pass.next
        }
    }
}
