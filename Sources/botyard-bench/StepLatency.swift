import BotyardClient
import Foundation
import Shared

/// Step-to-step latency of pipelines: from a step's job finishing (the worker's report) to the
/// next step's job starting on a worker (its `started` report, made just before `posix_spawn`).
/// Every hop is in it: the finished report through the broker, the dispatcher's transaction that
/// records it and stores the next job, the confirm, the next job's delivery to a worker.
struct StepLatency {
    let driver: Driver
    /// Steps per pipeline run.
    let steps: Int
    static let pipeline = "bench-chain"
    static let group = "chain"

    /// Defines the bench's pipeline: `steps` no-op steps in a row, on their own group.
    func define() async throws {
        let definition = PipelineDefinition(name: Self.pipeline, group: Self.group,
                                            steps: Array(repeating: PipelineStep(bot: "noop"), count: steps))
        _ = try await driver.client.put("/v1/pipelines/\(Self.pipeline)", definition, as: PipelineDefinition.self)
    }

    /// Runs the pipeline `runs` times, one run after the other (no new run once `keepGoing`
    /// says no), and returns every step-to-step latency in milliseconds of the runs that ended
    /// while `keepGoing` still said yes (so that a run under load has no idle steps in it).
    func measure(runs: Int, while keepGoing: @Sendable () -> Bool = { true }) async throws -> [Double] {
        var latencies: [Double] = []
        for _ in 0..<runs where keepGoing() {
            let created = try await driver.client.post("/v1/pipelines/\(Self.pipeline)/runs",
                                                       StartFlowRunRequest(initiator: "bench"), as: FlowRunCreated.self)
            var run = try await driver.client.get("/v1/pipeline-runs/\(created.id)", as: FlowRunSnapshot.self)
            while !run.state.isTerminal {
                try await Task.sleep(for: .milliseconds(20))
                run = try await driver.client.get("/v1/pipeline-runs/\(created.id)", as: FlowRunSnapshot.self)
            }
            guard keepGoing() else { break }
            let steps = run.steps ?? []
            for (earlier, later) in zip(steps, steps.dropFirst()) {
                guard let finished = earlier.finishedAt, let started = later.startedAt else { continue }
                latencies.append(started.timeIntervalSince(finished) * 1000)
            }
        }
        return latencies
    }
}
