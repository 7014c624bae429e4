import Shared
import Testing

@testable import Dispatcher

@Suite("Workflow engine")
struct WorkflowRunMachineTests {
    typealias Decision = FlowDecision

    static func machine(_ nodes: [String], _ edges: [WorkflowEdge]) -> WorkflowRunMachine {
        WorkflowRunMachine(definition: WorkflowDefinition(
            name: "w", group: "g1", nodes: nodes.map { WorkflowNode(id: $0, bot: "bot") }, edges: edges))
    }

    /// Feeds `event` and gives each started node a job id.
    static func handle(_ event: FlowEvent, _ machine: inout WorkflowRunMachine) throws -> [Decision] {
        let decisions = try machine.handle(event)
        for case .start(let id, _) in decisions { machine.attach(jobID: Int64(id.unicodeScalars.first!.value), at: id) }
        return decisions
    }

    static func started(_ decisions: [Decision]) -> [String] {
        decisions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    static let ok = JobEnding(.succeeded)
    static let failed = JobEnding(.failed(.business), reason: "invoice has no order number")

    @Test("A fails: B (on success) is skipped, C (on failure) runs; the failure was handled, so the run succeeds")
    func failureBranch() throws {
        var machine = Self.machine(["A", "B", "C"], [.init(from: "A", to: "B"), .init(from: "A", to: "C", on: .failure)])
        #expect(Self.started(try Self.handle(.start, &machine)) == ["A"])
        let decisions = try Self.handle(.jobEnded(at: "A", Self.failed), &machine)
        #expect(decisions == [.start(at: "C", variables: [
            "FAILED_NODE": "A", "FAILURE_KIND": "business", "FAILURE_REASON": "invoice has no order number",
        ])])
        #expect(machine.progress.nodes["B"]?.state == .skipped)
        _ = try Self.handle(.jobEnded(at: "C", Self.ok), &machine)
        #expect(machine.progress.state == .succeeded)
        #expect(machine.progress.exports["C"] == [:], "the failure variables reach direct successors only")
    }

    @Test("a skip propagates downstream, and a failure without a failure edge fails the run")
    func skipPropagates() throws {
        var machine = Self.machine(["A", "B", "C", "D"],
                                   [.init(from: "A", to: "B"), .init(from: "B", to: "C"), .init(from: "A", to: "D", on: .always)])
        _ = try Self.handle(.start, &machine)
        #expect(Self.started(try Self.handle(.jobEnded(at: "A", Self.failed), &machine)) == ["D"])
        #expect(machine.progress.nodes["B"]?.state == .skipped && machine.progress.nodes["C"]?.state == .skipped)
        _ = try Self.handle(.jobEnded(at: "D", Self.ok), &machine)
        #expect(machine.progress.state == .failed, "an always edge runs D but does not handle A's failure")
        #expect(machine.progress.reason == "unhandled failure of A (invoice has no order number)")
    }

    @Test("roots start at once, branches run in parallel, a merge waits for every incoming edge")
    func parallelAndMerge() throws {
        var machine = Self.machine(["A", "B", "C", "M"],
                                   [.init(from: "A", to: "M"), .init(from: "B", to: "M"), .init(from: "C", to: "M")])
        #expect(Set(Self.started(try Self.handle(.start, &machine))) == ["A", "B", "C"])
        #expect(try Self.handle(.jobEnded(at: "A", Self.ok), &machine) == [])
        #expect(try Self.handle(.jobEnded(at: "C", Self.ok), &machine) == [])
        #expect(Self.started(try Self.handle(.jobEnded(at: "B", Self.ok), &machine)) == ["M"])
    }

    @Test("variables flow downstream; at a merge the later-defined edge wins, a node's own output wins over both")
    func variables() throws {
        var machine = Self.machine(["A", "B", "C", "M", "N"], [
            .init(from: "A", to: "B"), .init(from: "A", to: "C"),
            .init(from: "C", to: "M"), .init(from: "B", to: "M"), .init(from: "M", to: "N"),
        ])
        _ = try Self.handle(.start, &machine)
        _ = try Self.handle(.jobEnded(at: "A", JobEnding(.succeeded, outputs: ["TOTAL": "10", "FROM": "A"])), &machine)
        #expect(machine.progress.variables["B"] == ["TOTAL": "10", "FROM": "A"])
        _ = try Self.handle(.jobEnded(at: "B", JobEnding(.succeeded, outputs: ["FROM": "B"])), &machine)
        let decisions = try Self.handle(.jobEnded(at: "C", JobEnding(.succeeded, outputs: ["FROM": "C"])), &machine)
        #expect(decisions == [.start(at: "M", variables: ["TOTAL": "10", "FROM": "B"])], "edge B → M is defined after C → M")
        let next = try Self.handle(.jobEnded(at: "M", JobEnding(.succeeded, outputs: ["FROM": "M"])), &machine)
        #expect(next == [.start(at: "N", variables: ["TOTAL": "10", "FROM": "M"])])
    }

    @Test("a merge with one fired edge and one skipped branch still runs")
    func mergeAfterSkip() throws {
        var machine = Self.machine(["A", "B", "C", "M"], [
            .init(from: "A", to: "B", on: .failure), .init(from: "A", to: "C"),
            .init(from: "B", to: "M"), .init(from: "C", to: "M"),
        ])
        _ = try Self.handle(.start, &machine)
        #expect(Self.started(try Self.handle(.jobEnded(at: "A", Self.ok), &machine)) == ["C"])
        #expect(Self.started(try Self.handle(.jobEnded(at: "C", Self.ok), &machine)) == ["M"])
        _ = try Self.handle(.jobEnded(at: "M", Self.ok), &machine)
        #expect(machine.progress.state == .succeeded)
        #expect(machine.progress.nodes["B"]?.state == .skipped)
    }

    @Test("pause holds ready nodes until resume; cancel stops running jobs and skips the rest")
    func pauseAndCancel() throws {
        var machine = Self.machine(["A", "B", "C"], [.init(from: "A", to: "B"), .init(from: "B", to: "C")])
        _ = try Self.handle(.start, &machine)
        _ = try Self.handle(.pause, &machine)
        #expect(try Self.handle(.jobEnded(at: "A", Self.ok), &machine) == [])
        #expect(machine.progress.state == .paused)
        #expect(Self.started(try Self.handle(.resume, &machine)) == ["B"])
        let job = try #require(machine.progress.nodes["B"]?.jobID)
        #expect(try Self.handle(.cancel(reason: "by test"), &machine) == [.cancelJob(job)])
        #expect(machine.progress.state == .cancelled && machine.progress.nodes["C"]?.state == .skipped)
        #expect(throws: FlowRunError.self) { try machine.handle(.resume) }
    }

    @Test("a node whose variables would exceed 64 KiB fails without a job, as a system failure; its failure edge fires")
    func variablesTooLarge() throws {
        var machine = Self.machine(["A", "B", "C"], [.init(from: "A", to: "B"), .init(from: "B", to: "C", on: .failure)])
        _ = try Self.handle(.start, &machine)
        let huge = String(repeating: "x", count: WorkflowRunMachine.maximumVariableBytes)
        let decisions = try Self.handle(.jobEnded(at: "A", JobEnding(.succeeded, outputs: ["BLOB": huge])), &machine)
        #expect(Self.started(decisions) == ["C"])
        #expect(machine.progress.nodes["B"]?.state == .failed && machine.progress.nodes["B"]?.jobID == nil)
        #expect(machine.progress.nodes["B"]?.reason == "its variables take 65540 bytes, more than 65536")
        #expect(machine.progress.variables["C"]?["FAILURE_KIND"] == "system")
        #expect(machine.progress.variables["C"]?["BLOB"] == nil)
    }

    @Test("nodes are visited in topological order: a skip reaches the end of a long chain in one pass")
    func topologicalOrder() throws {
        let ids = (1...6).map { "n\($0)" }
        // Defined backwards, so that definition order is the worst order to visit them in.
        var machine = Self.machine(ids.reversed(), [.init(from: "n1", to: "n2", on: .failure)]
            + (2..<6).map { WorkflowEdge(from: "n\($0)", to: "n\($0 + 1)") })
        #expect(machine.graph.order == ids)
        _ = try Self.handle(.start, &machine)
        _ = try Self.handle(.jobEnded(at: "n1", Self.ok), &machine)
        #expect(ids.dropFirst().allSatisfy { machine.progress.nodes[$0]?.state == .skipped })
        #expect(machine.progress.state == .succeeded)
    }
}
