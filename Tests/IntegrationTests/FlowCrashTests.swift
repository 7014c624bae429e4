import BotyardClient
import Foundation
import Shared
import TestSupport
import Testing

/// A pipeline run through a dispatcher crash.
@Suite("Pipeline across a dispatcher crash")
struct FlowCrashTests {
    @Test("the dispatcher kill -9ed while parallel jobs are outstanding, then restarted: the run completes, every step started exactly once")
    func dispatcherKilledMidRun() async throws {
        try await TestBroker.withVirtualHost { url in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-crash-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let database = folder.appendingPathComponent("botyard.sqlite")
            let bot = try FlowBot(folder: folder)
            try await WorkerProcesses.with(url: url, folder: folder) { workers in
                try await DispatcherProcesses.with(url: url, folder: folder) { dispatchers in
                    let dispatcher = try await dispatchers.start(database: database)
                    _ = try await workers.start("crash-worker",
                                          AdmissionTests.workerOptions(host: "h1", accounts: ["robot1"]))
                    let client = dispatcher.client
                    _ = try await client.post("/v1/bots", bot.bot(), as: BotDefinition.self)
                    // S3 ends only once the test opens its gate, after the dispatcher died.
                    let gate = folder.appendingPathComponent("s3.gate")
                    func step(_ tag: String, _ onFailure: PipelineStep.OnFailure, seconds: Double,
                              gate: URL? = nil) -> PipelineStep {
                        PipelineStep(bot: "flow-bot", inputs: FlowBot.inputs(tag, seconds: seconds, gate: gate),
                                     onFailure: onFailure)
                    }
                    _ = try await client.post("/v1/pipelines", PipelineDefinition(name: "crashy", group: "g1", steps: [
                        step("P1", .continue, seconds: 3), step("P2", .continue, seconds: 3),
                        step("S3", .stop, seconds: 0.2, gate: gate),
                        step("S4", .stop, seconds: 0.5), step("P5", .continue, seconds: 0.5),
                        step("S6", .stop, seconds: 0.2),
                    ]), as: PipelineDefinition.self)
                    let run = try await client.post("/v1/pipelines/crashy/runs", StartFlowRunRequest(initiator: "test"),
                                                    as: FlowRunCreated.self).id

                    // P1, P2 and S3 run; the dispatcher dies before any of them reports.
                    try await waitUntil(timeout: .seconds(30)) { Set(bot.starts().map(\.tag)) == ["P1", "P2", "S3"] }
                    let before = try await client.get("/v1/pipeline-runs/\(run)", as: FlowRunSnapshot.self)
                    #expect(before.outstanding == 2)
                    await dispatcher.kill()
                    // S3 reports while no dispatcher listens; its report waits in the broker.
                    FileManager.default.createFile(atPath: gate.path, contents: nil)
                    try await waitUntil(timeout: .seconds(30)) { !bot.ends("S3").isEmpty }
                    let restartedAt = Date()
                    let restarted = try await dispatchers.start(database: database, name: "restarted").client

                    var finished: FlowRunSnapshot?
                    try await waitUntil(timeout: .seconds(60)) {
                        let run = try await restarted.get("/v1/pipeline-runs/\(run)", as: FlowRunSnapshot.self)
                        finished = run
                        return run.state.isTerminal
                    }
                    let ended = try #require(finished)
                    #expect(ended.state == .succeeded)
                    #expect(ended.outstanding == 0)
                    #expect(ended.steps?.map(\.jobState) == Array(repeating: .succeeded, count: 6))
                    let starts = bot.starts().map(\.tag)
                    #expect(starts.sorted() == ["P1", "P2", "P5", "S3", "S4", "S6"], "every step started exactly once")
                    #expect(ended.steps?.allSatisfy { $0.attempts == 1 } == true)
                    let s3ID = try #require(ended.steps?[2].jobID)
                    let s3 = try await restarted.get("/v1/jobs/\(s3ID)", as: JobSnapshot.self)
                    let applied = try #require(s3.history?.first { $0.to == .succeeded })
                    #expect(applied.at >= restartedAt, "S3's report was applied by the restarted dispatcher")
                }
            }
        }
    }
}
