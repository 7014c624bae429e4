/// The two kinds of orchestration above single jobs.
public enum FlowKind: String, Codable, Sendable, CaseIterable {
    case pipeline
    case workflow

    /// The jobs a run of this kind starts carry this launch method.
    public var launchMethod: LaunchMethod {
        switch self {
        case .pipeline: .pipeline
        case .workflow: .workflow
        }
    }

    /// The collection in the API: `/v1/pipelines`, `/v1/workflows`.
    public var plural: String { "\(rawValue)s" }
}

/// A pipeline's or workflow's definition, stored by name.
public protocol FlowDefinition: Codable, Sendable {
    static var kind: FlowKind { get }
    var name: String { get }
    /// The bots its steps or nodes run, in order.
    var botNames: [String] { get }
    /// Every problem that keeps it from running, in words; `botExists` says which bots are registered.
    func problems(botExists: (String) -> Bool) -> [String]
}

extension PipelineDefinition: FlowDefinition {
    public static var kind: FlowKind { .pipeline }
    public var botNames: [String] { steps.map(\.bot) }

    public func problems(botExists: (String) -> Bool) -> [String] {
        problems + steps.enumerated().compactMap { index, step in
            Names.isValid(step.bot) && !botExists(step.bot) ? "step \(index + 1): no bot named '\(step.bot)'" : nil
        }
    }
}

extension WorkflowDefinition: FlowDefinition {
    public static var kind: FlowKind { .workflow }
    public var botNames: [String] { nodes.map(\.bot) }
}
