import Foundation
import Shared
import TestSupport
import Testing

/// Workflows run by real workers against the test broker.
@Suite("Workflows")
struct WorkflowTests {
    static func node(_ id: String, seconds: Double = 0.2, failAttempts: Int = 0, output: String? = nil,
                     business: String? = nil) -> WorkflowNode {
        WorkflowNode(id: id, bot: "flow-bot", inputs: FlowBot.inputs(id, seconds: seconds, failAttempts: failAttempts,
                                                                     output: output, business: business))
    }

    @Test("A fails (a business exception): B (on its success) is skipped, C (on its failure) runs and sees the kind and reason; the handled failure lets the run succeed")
    func failureBranch() async throws {
        try await Fleet.run { fleet in
            let bot = try FlowBot(folder: fleet.folder)
            try await fleet.register(bot.bot())
            try await fleet.define(WorkflowDefinition(name: "branch", group: "g1", nodes: [
                Self.node("A", business: "customer 4711 does not exist"), Self.node("B"), Self.node("C"),
            ], edges: [WorkflowEdge(from: "A", to: "B"), WorkflowEdge(from: "A", to: "C", on: .failure)]))
            let run = try await fleet.waitForRun(.workflow, try await fleet.startRun(.workflow, "branch"))
            #expect(run.state == .succeeded)
            #expect(run.steps?.map(\.state) == [.failed, .skipped, .succeeded])
            #expect(run.steps?.first?.failureKind == .business)
            #expect(bot.starts().map(\.tag) == ["A", "C"])
            #expect(bot.variables(of: "C") == [
                "FAILED_NODE=A", "FAILURE_KIND=business",
                "FAILURE_REASON=business exception: customer 4711 does not exist",
            ])
        }
    }

    @Test("a variable written by A is read by C through a merge; on a collision the later-defined edge wins")
    func variableThroughMerge() async throws {
        try await Fleet.run { fleet in
            let bot = try FlowBot(folder: fleet.folder)
            try await fleet.register(bot.bot())
            try await fleet.define(WorkflowDefinition(name: "merge", group: "g1", nodes: [
                Self.node("A", output: "TOTAL_EUR=1249.50"), Self.node("B", seconds: 1, output: "CHECKED_BY=B"),
                Self.node("X", seconds: 1.5, output: "CHECKED_BY=X"), Self.node("C"),
            ], edges: [
                WorkflowEdge(from: "A", to: "B"), WorkflowEdge(from: "A", to: "X"),
                WorkflowEdge(from: "B", to: "C"), WorkflowEdge(from: "X", to: "C"),
            ]))
            let run = try await fleet.waitForRun(.workflow, try await fleet.startRun(.workflow, "merge"))
            #expect(run.state == .succeeded)
            #expect(bot.variables(of: "C") == ["CHECKED_BY=X", "TOTAL_EUR=1249.50"])
            let merged = try #require(run.steps?.first { $0.id == "C" })
            #expect(merged.variables == ["TOTAL_EUR": "1249.50", "CHECKED_BY": "X"])
            let b = try #require(bot.starts("B").first), x = try #require(bot.ends("X").first)
            #expect(b.time < x.time, "B and X ran side by side")
            #expect(bot.ends("B")[0].time < bot.starts("C")[0].time, "the merge waited for B")
        }
    }

    @Test("a system failure nobody handles fails the run with its reason; what it skipped never starts")
    func unhandledFailure() async throws {
        try await Fleet.run { fleet in
            let bot = try FlowBot(folder: fleet.folder)
            try await fleet.register(bot.bot())
            try await fleet.define(WorkflowDefinition(name: "fails", group: "g1", nodes: [
                Self.node("A", failAttempts: 1), Self.node("B"), Self.node("D"),
            ], edges: [WorkflowEdge(from: "A", to: "B"), WorkflowEdge(from: "B", to: "D", on: .always)]))
            let run = try await fleet.waitForRun(.workflow, try await fleet.startRun(.workflow, "fails"))
            #expect(run.state == .failed)
            #expect(run.reason == "unhandled failure of A (attempts exhausted (1 of 1); last: exit code 3)")
            #expect(run.steps?.map(\.state) == [.failed, .skipped, .skipped])
            #expect(bot.starts().map(\.tag) == ["A"])
        }
    }
}
