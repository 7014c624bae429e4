import Shared

/// The three ways a trigger can count jobs, compared side by side.
public enum TriggerVariant: String, CaseIterable, Sendable, Codable {
    /// UiPath's rule counting only pending jobs (`pendingJobsStrategy` true).
    case uipathPendingOnly = "uipath-pending"
    /// UiPath's rule counting pending and running jobs (`pendingJobsStrategy` false, its default).
    case uipathPendingAndRunning = "uipath-pending-running"
    /// Botyard's rule: counts the jobs that hold no item yet.
    case exact

    public var label: String {
        switch self {
        case .uipathPendingOnly: "uipath, pending only"
        case .uipathPendingAndRunning: "uipath, pending+running"
        case .exact: "exact"
        }
    }

    /// `trigger` with this variant's strategy and pending-jobs setting; everything else kept.
    public func applied(to trigger: QueueTriggerDefinition) -> QueueTriggerDefinition {
        var trigger = trigger
        trigger.strategy = self == .exact ? .exact : .uipath
        trigger.pendingJobsStrategy = self == .uipathPendingOnly
        return trigger
    }
}
