import Foundation
import Shared

/// What `botyard apply` manages, one section of the file each, in the order it writes them:
/// what a later kind names (a calendar, a bot, a queue) exists by then.
public enum ResourceKind: String, CaseIterable, Sendable, Comparable {
    case calendars, bots, groups, credentials, queues, pipelines, workflows, triggers, schedules

    public static func < (lhs: ResourceKind, rhs: ResourceKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// One of them, in messages: `queue invoices`.
    public var noun: String {
        switch self {
        case .calendars: "calendar"
        case .bots: "bot"
        case .groups: "group"
        case .credentials: "credential"
        case .queues: "queue"
        case .pipelines: "pipeline"
        case .workflows: "workflow"
        case .triggers: "trigger of queue"
        case .schedules: "schedule"
        }
    }

    /// Whether `--prune` may delete one: the API deletes no bot, group or credential.
    public var prunable: Bool { ![.bots, .groups, .credentials].contains(self) }

    /// Where the dispatcher lists them.
    var listPath: String {
        switch self {
        case .triggers: "/v1/queue-triggers"
        default: "/v1/\(rawValue)"
        }
    }

    /// How one is written: bots are posted, the rest put under their name.
    func writeRequest(name: String) -> (method: String, path: String) {
        switch self {
        case .bots: ("POST", "/v1/bots")
        case .credentials: ("PUT", "/v1/credentials/\(Self.escaped(name))")
        case .triggers: ("PUT", "/v1/queues/\(Self.escaped(name))/trigger")
        default: ("PUT", "/v1/\(rawValue)/\(Self.escaped(name))")
        }
    }

    /// Where one is deleted; nil for kinds the API deletes none of.
    func deletePath(name: String) -> String? {
        guard prunable else { return nil }
        return self == .triggers ? "/v1/queues/\(Self.escaped(name))/trigger" : "/v1/\(rawValue)/\(Self.escaped(name))"
    }

    /// A name as a path segment (a credential's `host/account` stays two segments).
    private static func escaped(_ name: String) -> String {
        name.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? String($0) }
            .joined(separator: "/")
    }

    /// The dispatcher's list answer as each one's name and state (``ResourceState``).
    func currentState(from answer: Data) throws -> [String: ResourceState] {
        func named<Value: Decodable>(_ type: [Value].Type, _ entry: (Value) throws -> (String, ResourceState))
            throws -> [String: ResourceState]
        {
            Dictionary(try JSONCodec.decode(type, from: answer).map(entry)) { first, _ in first }
        }
        return switch self {
        case .calendars: try named([WorkingDayCalendar].self) { ($0.name, try ResourceState($0)) }
        case .bots: try named([BotDefinition].self) { ($0.name, try ResourceState($0)) }
        case .groups: try named([GroupStatus].self) {
            ($0.name, try ResourceState(GroupState(maxQueued: $0.maxQueued, launchAdmission: $0.launchAdmission)))
        }
        case .credentials: try named([CredentialSummary].self) {
            ("\($0.host)/\($0.account)", try ResourceState(CredentialState(username: $0.username)))
        }
        case .queues: try named([WorkQueueDefinition].self) { ($0.name, try ResourceState($0)) }
        case .pipelines: try named([PipelineDefinition].self) { ($0.name, try ResourceState($0)) }
        case .workflows: try named([WorkflowDefinition].self) { ($0.name, try ResourceState($0)) }
        case .triggers: try named([QueueTriggerSnapshot].self) {
            ($0.definition.queue, try ResourceState($0.definition))
        }
        case .schedules: try named([ScheduleSnapshot].self) { ($0.definition.name, try ResourceState($0.definition)) }
        }
    }
}

/// What apply compares: a resource as the dispatcher would store it, as JSON with sorted keys.
public struct ResourceState: Sendable, Equatable {
    /// Top-level fields and their values (compact JSON).
    public let fields: [String: String]

    init(_ value: some Encodable) throws {
        let object = try JSONSerialization.jsonObject(with: JSONCodec.encode(value)) as? [String: Any] ?? [:]
        fields = try object.mapValues {
            String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed,
                                                                                      .withoutEscapingSlashes]),
                   as: UTF8.self)
        }
    }

    /// `field: old → new` for each field that differs from `current`.
    func differences(from current: ResourceState) -> [String] {
        Set(fields.keys).union(current.fields.keys).sorted().compactMap { key in
            let old = current.fields[key] ?? "(none)", new = fields[key] ?? "(none)"
            return old == new ? nil : "\(key): \(Self.short(old)) → \(Self.short(new))"
        }
    }

    private static func short(_ text: String) -> String { text.count > 80 ? text.prefix(77) + "..." : text }
}

/// A group's settings as compared: its bound, and the mode of every launch method.
struct GroupState: Encodable {
    var maxQueued: Int?
    var launchAdmission: [String: String]

    init(maxQueued: Int?, launchAdmission: [LaunchMethod: AdmissionMode]) {
        self.maxQueued = maxQueued
        self.launchAdmission = Dictionary(uniqueKeysWithValues: launchAdmission.map {
            ($0.key.rawValue, $0.value.rawValue)
        })
    }
}

/// A credential as compared: its user name (the password is never read back).
struct CredentialState: Encodable {
    var username: String
}
