import Foundation
import Logging
import ServiceLifecycle

/// Applies the ``RetentionPolicy`` every `interval` (and once at start), in small batches.
final class RetentionKeeper: Service {
    private let store: BotyardStore
    private let policy: RetentionPolicy
    private let interval: Duration
    private let logger: Logger

    init(store: BotyardStore, policy: RetentionPolicy, interval: Duration, logger: Logger) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let pass = try await self.store.applyRetention(self.policy)
                    if pass.total > 0 {
                        self.logger.info("retention pass", metadata: [
                            "deleted.jobs": "\(pass.jobs)", "deleted.job_logs": "\(pass.jobLogs)",
                            "deleted.applied_events": "\(pass.appliedEvents)", "deleted.workers": "\(pass.workers)",
                            "deleted.audit_entries": "\(pass.auditEntries)",
                        ])
                    }
                } catch {
                    self.logger.error("retention pass failed; the next one tries again",
                                      metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
