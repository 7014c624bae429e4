/// What `botyard apply` will do: each resource of the file created, updated or left as it is,
/// and with `--prune` each one the file no longer names deleted. Decided from the file and the
/// dispatcher's current state alone.
public struct ApplyPlan: Sendable {
    public var changes: [PlannedChange]

    /// - Parameters:
    ///   - current: each kind's resources on the dispatcher, by name.
    ///   - prune: delete what the file does not name, of the kinds the API deletes.
    public init(desired: [DesiredResource], current: [ResourceKind: [String: ResourceState]], prune: Bool) {
        var changes = desired.map { resource -> PlannedChange in
            guard let existing = current[resource.kind]?[resource.name] else {
                return PlannedChange(kind: resource.kind, name: resource.name, action: .create, resource: resource)
            }
            let differences = resource.state.differences(from: existing)
            return PlannedChange(kind: resource.kind, name: resource.name,
                                 action: differences.isEmpty ? .unchanged : .update, differences: differences,
                                 resource: resource)
        }
        if prune {
            let named = Set(desired.map { "\($0.kind.rawValue)/\($0.name)" })
            // Deleted in the reverse of the order of writing: a schedule before the pipeline it starts.
            for kind in ResourceKind.allCases.reversed() {
                for name in (current[kind] ?? [:]).keys.sorted() where !named.contains("\(kind.rawValue)/\(name)") {
                    changes.append(PlannedChange(kind: kind, name: name, action: kind.prunable ? .delete : .keep))
                }
            }
        }
        self.changes = changes
    }

    /// The state a dispatcher without any of them is left in once `resources` are applied.
    public static func state(after resources: [DesiredResource]) -> [ResourceKind: [String: ResourceState]] {
        Dictionary(grouping: resources, by: \.kind).mapValues {
            Dictionary($0.map { ($0.name, $0.state) }) { _, last in last }
        }
    }

    /// Whether applying it changes anything.
    public var changesSomething: Bool { changes.contains { $0.action.changes } }

    /// `2 to create, 1 to update, 0 to delete, 5 unchanged`.
    public var summary: String {
        func count(_ action: PlannedChange.Action) -> Int { changes.filter { $0.action == action }.count }
        var parts = ["\(count(.create)) to create", "\(count(.update)) to update", "\(count(.delete)) to delete",
                     "\(count(.unchanged)) unchanged"]
        if count(.keep) > 0 { parts.append("\(count(.keep)) kept (the API deletes no bot, group or credential)") }
        return parts.joined(separator: ", ")
    }
}

/// One step of an ``ApplyPlan``.
public struct PlannedChange: Sendable, CustomStringConvertible {
    public enum Action: String, Sendable {
        case create, update, unchanged, delete
        /// Not in the file, but of a kind the API deletes none of.
        case keep

        /// Whether the step sends anything.
        public var changes: Bool { self == .create || self == .update || self == .delete }
    }

    public var kind: ResourceKind
    public var name: String
    public var action: Action
    /// For an update: `field: old → new`, one per field that changes.
    public var differences: [String] = []
    /// What the file says (nil for a deletion).
    var resource: DesiredResource?

    /// `+ queue invoices`, `~ bot echo` with its differences, `- schedule nightly`, `= group demo`.
    public var description: String {
        let sign = switch action {
        case .create: "+"
        case .update: "~"
        case .delete: "-"
        case .unchanged: "="
        case .keep: "!"
        }
        let note = switch action {
        case .unchanged: " (unchanged)"
        case .keep: " (not in the file; apply does not delete a \(kind.noun))"
        default: ""
        }
        return (["\(sign) \(kind.noun) \(name)\(note)"] + differences.map { "    \($0)" }).joined(separator: "\n")
    }
}
