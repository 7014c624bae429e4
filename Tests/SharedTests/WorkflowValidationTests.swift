import Shared
import Testing

@Suite("Workflow validation")
struct WorkflowValidationTests {
    static func problems(_ nodes: [(String, String)], _ edges: [(String, String)], group: String? = "g1") -> [String] {
        WorkflowDefinition(name: "w", group: group, nodes: nodes.map { WorkflowNode(id: $0.0, bot: $0.1) },
                           edges: edges.map { WorkflowEdge(from: $0.0, to: $0.1) })
            .problems(botExists: { $0 != "ghost" })
    }

    @Test("a valid graph has no problems")
    func valid() {
        #expect(Self.problems([("a", "bot"), ("b", "bot"), ("c", "bot")], [("a", "b"), ("a", "c"), ("b", "c")]).isEmpty)
    }

    @Test("every problem is named at once: unknown bot, duplicate id, dangling edge, cycle")
    func everyProblem() {
        let problems = Self.problems(
            [("a", "bot"), ("b", "bot"), ("c", "ghost"), ("b", "bot"), ("d", "bot"), ("e", "bot")],
            [("a", "b"), ("b", "d"), ("d", "e"), ("e", "d"), ("a", "zz")])
        #expect(problems == [
            "node 'c': no bot named 'ghost'",
            "duplicate node id 'b'",
            "edge 5 (a → zz) names an unknown node: 'zz'",
            "cycle: d → e → d",
        ])
    }

    @Test("a cycle that no root reaches is named, and so are its unreachable nodes")
    func unreachableCycle() {
        let problems = Self.problems([("a", "bot"), ("x", "bot"), ("y", "bot")], [("x", "y"), ("y", "x")])
        #expect(problems == [
            "cycle: x → y → x",
            "node 'x' cannot be reached from any root",
            "node 'y' cannot be reached from any root",
        ])
    }

    @Test("an empty graph, a graph without a root, a node without a group")
    func emptyAndRootless() {
        #expect(Self.problems([], []) == ["the graph is empty: a workflow needs at least one node"])
        #expect(Self.problems([("a", "bot")], [("a", "a")]) == ["cycle: a → a", "no root: every node has an incoming edge"])
        #expect(Self.problems([("a", "bot")], [], group: nil) == ["node 'a': needs a group (its own or the workflow's)"])
    }

    @Test("a pipeline names its bad steps by number")
    func pipelineProblems() {
        let pipeline = PipelineDefinition(name: "p", group: "g1", environment: "qa", steps: [
            PipelineStep(bot: "a", onFailure: .retry),
            PipelineStep(bot: "b", onFailure: .continue, retries: 2),
            PipelineStep(bot: "c", inputs: ["1X": "y"]),
        ])
        #expect(pipeline.problems == [
            "environment must be one of dev, staging, prod",
            "step 1: onFailure retry needs retries (1-99)",
            "step 2: retries may only be given with onFailure retry",
            "step 3: input key '1X' must match [A-Za-z_][A-Za-z0-9_]*",
        ])
        #expect(PipelineDefinition(name: "p", group: "g1", steps: []).problems == ["a pipeline needs at least one step"])
    }
}
