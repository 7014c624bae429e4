import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Fires the schedules: it sleeps until the earliest schedule's next firing, handles every
/// firing then due (``BotyardStore/fireDueSchedules(at:misfireThreshold:)``) and sleeps again.
/// Saving, pausing or resuming a schedule, or changing a calendar, wakes it, as the next firing
/// may have moved. It also looks at least every `longestSleep`, in case the wall clock jumped.
final class ScheduleKeeper: Service {
    private let store: BotyardStore
    private let signal: WakeSignal
    /// Wakes the robot queue when a firing stored jobs.
    private let robotQueueSignal: WakeSignal
    private let misfireThreshold: TimeInterval
    private let longestSleep: Duration
    private let logger: Logger

    init(store: BotyardStore, signal: WakeSignal, robotQueueSignal: WakeSignal,
         misfireThreshold: TimeInterval, longestSleep: Duration = .seconds(300), logger: Logger) {
        self.store = store
        self.signal = signal
        self.robotQueueSignal = robotQueueSignal
        self.misfireThreshold = misfireThreshold
        self.longestSleep = longestSleep
        self.logger = logger
    }

    func run() async throws {
        await runTimedPasses(signal: signal, longestSleep: longestSleep, logger: logger,
                             failure: "cannot fire schedules; will retry") {
            let pass = try await self.store.fireDueSchedules(misfireThreshold: self.misfireThreshold)
            if pass.started > 0 {
                self.robotQueueSignal.notify()
            }
            for (schedule, starts) in pass.starts.sorted(by: { $0.key < $1.key }) {
                self.logger.info("schedule fired", metadata: [
                    "schedule.name": "\(schedule)", "schedule.started": "\(starts.joined(separator: ", "))",
                ])
            }
            if pass.handled > 0 {
                self.logger.info("schedules fired", metadata: [
                    "firings.handled": "\(pass.handled)", "runs.started": "\(pass.started)",
                ])
            }
            return pass.next
        }
    }
}
