/// A workflow: a directed acyclic graph of bot nodes whose edges fire on a node's success, its
/// failure, or always; outputs of a node reach its successors as variables.
public struct WorkflowDefinition: Codable, Sendable, Equatable {
    public var name: String
    /// Group of the nodes that name none.
    public var group: String?
    /// Environment of the nodes that name none (default `prod`).
    public var environment: String
    public var priority: Priority
    public var nodes: [WorkflowNode]
    public var edges: [WorkflowEdge]

    public init(name: String, group: String? = nil, environment: String = "prod", priority: Priority = .normal,
                nodes: [WorkflowNode], edges: [WorkflowEdge]) {
        self.name = name
        self.group = group
        self.environment = environment
        self.priority = priority
        self.nodes = nodes
        self.edges = edges
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            group: try container.decodeIfPresent(String.self, forKey: .group),
            environment: try container.decodeIfPresent(String.self, forKey: .environment) ?? "prod",
            priority: try container.decodeIfPresent(Priority.self, forKey: .priority) ?? .normal,
            nodes: try container.decodeIfPresent([WorkflowNode].self, forKey: .nodes) ?? [],
            edges: try container.decodeIfPresent([WorkflowEdge].self, forKey: .edges) ?? [])
    }

    public static let maximumNodes = 200
    public static let maximumEdges = 1000

    /// Every problem of this definition, in words (empty when it can run): its names and
    /// inputs, bots that `botExists` does not know, and the graph's own problems
    /// (``WorkflowGraph/problems``).
    public func problems(botExists: (String) -> Bool) -> [String] {
        var problems: [String] = []
        if !Names.isValid(name) { problems.append("name must be a valid name") }
        if let group, !Names.isValidGroup(group) { problems.append(Names.groupRule) }
        if !SubmitJobRequest.environments.contains(environment) {
            problems.append("environment must be one of dev, staging, prod")
        }
        if nodes.count > Self.maximumNodes { problems.append("a workflow may have at most \(Self.maximumNodes) nodes") }
        if edges.count > Self.maximumEdges { problems.append("a workflow may have at most \(Self.maximumEdges) edges") }
        for node in nodes {
            let label = "node '\(node.id.prefix(64))'"
            if !Names.isValid(node.id) { problems.append("\(label): id must be a valid name") }
            if !Names.isValid(node.bot) {
                problems.append("\(label): bot must be a valid name")
            } else if !botExists(node.bot) {
                problems.append("\(label): no bot named '\(node.bot)'")
            }
            switch node.group ?? group {
            case nil: problems.append("\(label): needs a group (its own or the workflow's)")
            case let group? where !Names.isValidGroup(group): problems.append("\(label): \(Names.groupRule)")
            default: break
            }
            if let environment = node.environment, !SubmitJobRequest.environments.contains(environment) {
                problems.append("\(label): environment must be one of dev, staging, prod")
            }
            problems.append(contentsOf: InputRules.problems(node.inputs).map { "\(label): \($0)" })
        }
        problems.append(contentsOf: WorkflowGraph(self).problems)
        return problems
    }

    /// The node with `id`.
    public func node(_ id: String) -> WorkflowNode? { nodes.first { $0.id == id } }
}

/// A node of a workflow: one bot run.
public struct WorkflowNode: Codable, Sendable, Equatable {
    public var id: String
    public var bot: String
    public var group: String?
    public var environment: String?
    public var inputs: [String: String]

    public init(id: String, bot: String, group: String? = nil, environment: String? = nil,
                inputs: [String: String] = [:]) {
        self.id = id
        self.bot = bot
        self.group = group
        self.environment = environment
        self.inputs = inputs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            bot: try container.decode(String.self, forKey: .bot),
            group: try container.decodeIfPresent(String.self, forKey: .group),
            environment: try container.decodeIfPresent(String.self, forKey: .environment),
            inputs: try container.decodeIfPresent([String: String].self, forKey: .inputs) ?? [:])
    }
}

/// An edge of a workflow: `to` may start once `from` has ended as `on` asks.
public struct WorkflowEdge: Codable, Sendable, Equatable {
    public enum Condition: String, Codable, Sendable {
        /// Fires when `from` succeeded.
        case success
        /// Fires when `from` failed (a business or a system failure) or its job was cancelled; it
        /// handles that failure (see README: when a workflow succeeds).
        case failure
        /// Fires when `from` ended, whichever way (but not when it was skipped).
        case always
    }

    public var from: String
    public var to: String
    public var on: Condition

    public init(from: String, to: String, on: Condition = .success) {
        self.from = from
        self.to = to
        self.on = on
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            from: try container.decode(String.self, forKey: .from),
            to: try container.decode(String.self, forKey: .to),
            on: try container.decodeIfPresent(Condition.self, forKey: .on) ?? .success)
    }
}
