import Shared

/// A workflow run's progress, persisted by the store as one JSON value beside its definition.
struct WorkflowProgress: Codable, Equatable, Sendable {
    var state: FlowRunState = .running
    /// By node id.
    var nodes: [String: FlowStepProgress]
    /// The variables each started node was given (`BOTYARD_VAR_<KEY>`), by node id.
    var variables: [String: [String: String]] = [:]
    /// The variables each ended node passes on: what it was given (but the failure variables),
    /// overridden by its outputs.
    var exports: [String: [String: String]] = [:]
    /// Why the run ended the way it did.
    var reason: String?

    init(nodeIDs: [String]) {
        nodes = Dictionary(uniqueKeysWithValues: nodeIDs.map { ($0, FlowStepProgress()) })
    }
}

/// The workflow engine: a run's state plus an event gives the new state and the jobs to start
/// or stop. Pure, like ``PipelineRunMachine``.
///
/// Roots start at once. An edge is decided once its `from` node has ended or was skipped; it
/// fires on `from`'s success, failure (or cancel), or either (`always`) — a skipped node fires
/// nothing. A node starts when all its incoming edges are decided and at least one fired; when
/// none fired it is skipped, and so on downstream. The run ends when nothing runs and nothing can
/// start: `succeeded` unless a node failed without a `failure` edge out of it.
struct WorkflowRunMachine: FlowRunMachine {
    let definition: WorkflowDefinition
    let graph: WorkflowGraph
    private(set) var progress: WorkflowProgress

    init(definition: WorkflowDefinition, progress: WorkflowProgress? = nil) {
        self.definition = definition
        self.graph = WorkflowGraph(definition)
        self.progress = progress ?? WorkflowProgress(nodeIDs: graph.nodeIDs)
    }

    var state: FlowRunState { progress.state }
    var reason: String? { progress.reason }
    var outstanding: Int? { nil }

    mutating func handle(_ event: FlowEvent) throws(FlowRunError) -> [FlowDecision] {
        switch event {
        case .start:
            let untouched = progress.nodes.values.allSatisfy { $0.state == .waiting }
            guard progress.state == .running, untouched else { return [] }
            return advance()
        case .jobEnded(let id, let ending):
            guard progress.nodes[id]?.state == .running else { return [] }
            progress.nodes[id]!.record(ending)
            let inherited = (progress.variables[id] ?? [:]).filter { !Self.failureVariables.contains($0.key) }
            // A business exception's reason travels as FAILURE_REASON, not as a variable of its own.
            let outputs = ending.outputs.filter { $0.key != JobOutcome.businessExceptionKey }
            progress.exports[id] = inherited.merging(outputs) { _, output in output }
            return advance()
        case .pause:
            try progress.state.pause()
            return []
        case .resume:
            try progress.state.resume()
            return advance()
        case .cancel(let reason):
            try progress.state.cancel()
            progress.reason = reason
            var decisions: [FlowDecision] = []
            for id in graph.nodeIDs {
                switch progress.nodes[id]!.state {
                case .waiting: progress.nodes[id]!.state = .skipped
                case .running: if let job = progress.nodes[id]!.jobID { decisions.append(.cancelJob(job)) }
                default: break
                }
            }
            return decisions
        }
    }

    mutating func attach(jobID: Int64, at id: String) {
        progress.nodes[id]?.jobID = jobID
    }

    func launch(at id: String, variables: [String: String]) -> FlowLaunch {
        let node = definition.node(id)!
        return FlowLaunch(bot: node.bot, group: node.group ?? definition.group!,
                          environment: node.environment ?? definition.environment, priority: definition.priority,
                          inputs: node.inputs, variables: variables, maxAttempts: nil)
    }

    var steps: [FlowStepSnapshot] {
        graph.nodeIDs.map { id in
            let node = progress.nodes[id]!
            return FlowStepSnapshot(id: id, bot: definition.node(id)!.bot, state: node.state, jobID: node.jobID,
                                    failureKind: node.failureKind, reason: node.reason,
                                    variables: progress.variables[id])
        }
    }

    /// Whether `edge` fires, once decided; nil while its `from` node has not ended.
    func fires(_ edge: WorkflowEdge) -> Bool? {
        let from = progress.nodes[edge.from]!.state
        guard from.isDecided else { return nil }
        switch (edge.on, from) {
        case (_, .skipped): return false
        case (.success, .succeeded), (.always, _): return true
        case (.failure, .failed), (.failure, .cancelled): return true
        default: return false
        }
    }

    /// Starts or skips every node whose incoming edges are all decided (skips propagate), and
    /// ends the run when nothing runs and nothing can start.
    private mutating func advance() -> [FlowDecision] {
        guard !progress.state.isTerminal else { return [] }
        var decisions: [FlowDecision] = []
        var changed = true
        while changed {
            changed = false
            for id in graph.order where progress.nodes[id]!.state == .waiting {
                let verdicts = graph.incoming(id).map { ($0, fires($0)) }
                guard verdicts.allSatisfy({ $0.1 != nil }) else { continue }
                let fired = verdicts.filter { $0.1 == true }.map(\.0)
                if !verdicts.isEmpty && fired.isEmpty {
                    progress.nodes[id]!.state = .skipped
                    progress.nodes[id]!.reason = "none of its incoming edges fired"
                    changed = true
                } else if progress.state == .running {
                    let variables = inheritedVariables(through: fired)
                    progress.variables[id] = variables
                    changed = true
                    let size = variables.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
                    guard size <= Self.maximumVariableBytes else {
                        // Its environment would be too large to start the bot: it fails without a job.
                        progress.nodes[id]!.state = .failed
                        progress.nodes[id]!.failureKind = .system
                        progress.nodes[id]!.reason =
                            "its variables take \(size) bytes, more than \(Self.maximumVariableBytes)"
                        progress.exports[id] = [:]
                        continue
                    }
                    progress.nodes[id]!.state = .running
                    decisions.append(.start(at: id, variables: variables))
                }
            }
        }
        let states = progress.nodes.values.map(\.state)
        if !states.contains(.running) && !states.contains(.waiting) {
            let unhandled = graph.nodeIDs.filter { id in
                [.failed, .cancelled].contains(progress.nodes[id]!.state)
                    && !graph.outgoing(id).contains { $0.on == .failure }
            }
            if unhandled.isEmpty {
                progress.state = .succeeded
            } else {
                progress.state = .failed
                progress.reason = "unhandled failure of " + unhandled.map { id in
                    "\(id)" + (progress.nodes[id]!.reason.map { " (\($0))" } ?? "")
                }.joined(separator: ", ")
            }
        }
        return decisions
    }

    /// The most a node's variables may take (keys and values), like a job's inputs.
    static let maximumVariableBytes = InputRules.maximumBytes

    /// Set on a node reached through an edge from a failed node; not passed further on.
    static let failureVariables: Set<String> = ["FAILED_NODE", "FAILURE_KIND", "FAILURE_REASON"]

    /// What a node gets from the edges that fired into it: each predecessor's exports, taken in
    /// the order the edges are defined, a later one overriding an earlier one on the same key;
    /// and, through an edge from a failed node, the ``failureVariables``.
    private func inheritedVariables(through edges: [WorkflowEdge]) -> [String: String] {
        var variables: [String: String] = [:]
        for edge in edges {
            variables.merge(progress.exports[edge.from] ?? [:]) { _, later in later }
            let from = progress.nodes[edge.from]!
            if from.state == .failed || from.state == .cancelled {
                variables["FAILED_NODE"] = edge.from
                variables["FAILURE_KIND"] = from.state == .cancelled ? "cancelled" : from.failureKind?.rawValue
                variables["FAILURE_REASON"] = from.reason ?? ""
            }
        }
        return variables
    }
}
