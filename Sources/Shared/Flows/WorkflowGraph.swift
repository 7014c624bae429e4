/// The shape of a workflow's graph: roots, successors, cycles and reachability.
public struct WorkflowGraph: Sendable {
    /// Node ids in their definition's order (the first of duplicates).
    public let nodeIDs: [String]
    /// Edges between known nodes, in definition order.
    public let edges: [WorkflowEdge]
    private let edgesInto: [String: [WorkflowEdge]]
    private let edgesOutOf: [String: [WorkflowEdge]]
    private let problemsFound: [String]
    /// The nodes, each after every node with an edge into it (definition order among equals; a
    /// cycle's nodes last, in definition order).
    public let order: [String]

    public init(_ definition: WorkflowDefinition) {
        var seen: Set<String> = []
        var duplicates: [String] = []
        var ids: [String] = []
        for node in definition.nodes {
            if seen.insert(node.id).inserted { ids.append(node.id) } else { duplicates.append(node.id) }
        }
        var problems: [String] = []
        if definition.nodes.isEmpty { problems.append("the graph is empty: a workflow needs at least one node") }
        for id in Set(duplicates).sorted() { problems.append("duplicate node id '\(id.prefix(64))'") }
        var edges: [WorkflowEdge] = []
        var pairs: Set<[String]> = []
        for (index, edge) in definition.edges.enumerated() {
            let label = "edge \(index + 1) (\(edge.from.prefix(64)) → \(edge.to.prefix(64)))"
            let unknown = [edge.from, edge.to].filter { !seen.contains($0) }
            if !unknown.isEmpty {
                let names = unknown.map { "'\($0.prefix(64))'" }.joined(separator: ", ")
                problems.append("\(label) names an unknown node: \(names)")
                continue
            }
            if !pairs.insert([edge.from, edge.to]).inserted {
                problems.append("\(label) repeats an edge between the same nodes (use on: always for both outcomes)")
                continue
            }
            edges.append(edge)
        }
        self.nodeIDs = ids
        self.edges = edges
        self.edgesInto = Dictionary(grouping: edges, by: \.to)
        self.edgesOutOf = Dictionary(grouping: edges, by: \.from)
        self.order = Self.topologicalOrder(nodes: ids, edges: edges)
        let cycles = Self.cycles(nodes: ids, edges: edges)
        problems.append(contentsOf: cycles.map { "cycle: \($0.joined(separator: " → "))" })
        if !ids.isEmpty {
            let targets = Set(edges.map(\.to))
            let roots = ids.filter { !targets.contains($0) }
            if roots.isEmpty {
                problems.append("no root: every node has an incoming edge")
            } else {
                let reachable = Self.reachable(from: roots, edges: edges)
                for id in ids where !reachable.contains(id) {
                    problems.append("node '\(id.prefix(64))' cannot be reached from any root")
                }
            }
        }
        self.problemsFound = problems
    }

    /// The graph's problems in words: emptiness, duplicate ids, edges to unknown nodes,
    /// repeated edges, each cycle (named by its nodes), nodes no root reaches.
    public var problems: [String] { problemsFound }

    /// Nodes without incoming edges.
    public var roots: [String] { nodeIDs.filter { edgesInto[$0] == nil } }

    /// The edges into `id`, in definition order.
    public func incoming(_ id: String) -> [WorkflowEdge] { edgesInto[id] ?? [] }

    /// The edges out of `id`, in definition order.
    public func outgoing(_ id: String) -> [WorkflowEdge] { edgesOutOf[id] ?? [] }

    private static func topologicalOrder(nodes: [String], edges: [WorkflowEdge]) -> [String] {
        var waitingFor = Dictionary(uniqueKeysWithValues: nodes.map { ($0, 0) })
        for edge in edges { waitingFor[edge.to, default: 0] += 1 }
        let successors = Dictionary(grouping: edges, by: \.from).mapValues { $0.map(\.to) }
        var order: [String] = []
        var ready = nodes.filter { waitingFor[$0] == 0 }
        while !ready.isEmpty {
            let id = ready.removeFirst()
            order.append(id)
            for next in successors[id] ?? [] {
                waitingFor[next]! -= 1
                if waitingFor[next] == 0 { ready.append(next) }
            }
        }
        let placed = Set(order)
        return order + nodes.filter { !placed.contains($0) }
    }

    private static func reachable(from roots: [String], edges: [WorkflowEdge]) -> Set<String> {
        var reached = Set(roots)
        var frontier = roots
        while let id = frontier.popLast() {
            for edge in edges where edge.from == id && reached.insert(edge.to).inserted {
                frontier.append(edge.to)
            }
        }
        return reached
    }

    /// One cycle per back edge a depth-first search meets, each as a closed path
    /// (`a → b → a`), listed once whatever node it was entered at.
    static func cycles(nodes: [String], edges: [WorkflowEdge]) -> [[String]] {
        var successors: [String: [String]] = [:]
        for edge in edges { successors[edge.from, default: []].append(edge.to) }
        enum Mark { case onPath, done }
        var marks: [String: Mark] = [:]
        var path: [String] = []
        var cycles: [[String]] = []
        var seenCycles: Set<Set<String>> = []

        func visit(_ id: String) {
            marks[id] = .onPath
            path.append(id)
            for next in successors[id] ?? [] {
                switch marks[next] {
                case .onPath:
                    let loop = Array(path[path.lastIndex(of: next)!...])
                    if seenCycles.insert(Set(loop)).inserted { cycles.append(loop + [next]) }
                case .done:
                    break
                case nil:
                    visit(next)
                }
            }
            path.removeLast()
            marks[id] = .done
        }
        for id in nodes where marks[id] == nil { visit(id) }
        return cycles
    }
}
