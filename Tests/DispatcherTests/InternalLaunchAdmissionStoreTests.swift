import Foundation
import Shared
import Testing

@testable import Dispatcher

/// Launches the dispatcher makes itself honour their group's launch-admission entry: a run's
/// refused step fails the step; a queue trigger's refused launch is never stored.
@Suite("Launch admission of runs and queue triggers in the store")
struct InternalLaunchAdmissionStoreTests {
    static let bots = ["read", "post"].map {
        BotDefinition(name: $0, argv: ["/bin/true"], timeoutSeconds: 30,
                      retry: .fixed(maxAttempts: 3, waitMilliseconds: 0))
    }
    static let idle = "No slots available: no worker of group g1 is active"

    func refuse(_ method: LaunchMethod, in store: BotyardStore) async throws {
        try await store.saveGroup("g1", settings: GroupSettings(launchAdmission: LaunchAdmissionTable([method: .sync])))
    }

    func finish(_ store: BotyardStore, job jobID: Int64) async throws {
        func event(_ kind: JobEvent.Kind, _ outcome: JobOutcome? = nil) -> JobEvent {
            JobEvent(kind: kind, jobID: jobID, attempt: 1, runID: "run-\(jobID)", workerID: "w1", host: "h1",
                     account: "a1", outcome: outcome)
        }
        _ = try await store.apply(event(.started), random: 0)
        let outcome = JobOutcome(result: .succeeded, exitCode: 0, reason: "exit")
        _ = try await store.apply(event(.finished, outcome), random: 0)
    }

    @Test("a pipeline's first step refused by its group fails the run at once; its job is rejected, unpublished")
    func pipelineFirstStepRefused() async throws {
        try await withTemporaryStore { store, _ in
            for bot in Self.bots { try await store.saveBot(bot) }
            try await refuse(.pipeline, in: store)
            let pipeline = PipelineDefinition(name: "p", group: "g1", steps: [PipelineStep(bot: "read"),
                                                                              PipelineStep(bot: "post")])
            _ = try await store.saveFlow(pipeline, replace: false)
            let run = try #require(try await store.startRun(of: .pipeline, named: "p", initiator: "ops"))
            #expect(run.state == .failed)
            #expect(run.reason == "step 1 (read) failed (system failure): \(Self.idle)")
            let steps = try #require(try await store.run(.pipeline, id: run.id)?.steps)
            #expect(steps.map(\.state) == [.failed, .skipped])
            let jobID = try #require(steps[0].jobID)
            let job = try #require(try await store.job(id: jobID))
            #expect(job.state == .rejected && job.reason == Self.idle && job.launchMethod == .pipeline)
            #expect(job.flowRun == FlowRunReference(kind: .pipeline, id: run.id, step: "1"))
            #expect(job.history?.map(\.to) == [JobState.pending, .rejected])
            #expect(try await store.outboxCount() == 0)
        }
    }

    @Test("a later step refused when the step before it succeeds fails the run in that report's transaction")
    func pipelineLaterStepRefused() async throws {
        try await withTemporaryStore { store, _ in
            for bot in Self.bots { try await store.saveBot(bot) }
            let pipeline = PipelineDefinition(name: "p", group: "g1", steps: [
                PipelineStep(bot: "read"), PipelineStep(bot: "post", onFailure: .continue), PipelineStep(bot: "read"),
            ])
            _ = try await store.saveFlow(pipeline, replace: false)
            let run = try #require(try await store.startRun(of: .pipeline, named: "p", initiator: "ops"))
            try await refuse(.pipeline, in: store)
            let first = try #require(try await store.run(.pipeline, id: run.id)?.steps?.first?.jobID)
            try await finish(store, job: first)
            let ended = try #require(try await store.run(.pipeline, id: run.id))
            // A refused continue step does not stop the run, and the next step is refused too.
            #expect(ended.steps?.map(\.state) == [.succeeded, .failed, .failed])
            #expect(ended.state == .failed && ended.reason == "step 3 (read) failed (system failure): \(Self.idle)")
            var states: [JobState?] = []
            for job in ended.steps?.compactMap(\.jobID) ?? [] { states.append(try await store.job(id: job)?.state) }
            #expect(states == [.succeeded, .rejected, .rejected])
        }
    }

    @Test("a workflow's node refused by its group's workflow entry fails the node and the run")
    func workflowNodeRefused() async throws {
        try await withTemporaryStore { store, _ in
            for bot in Self.bots { try await store.saveBot(bot) }
            try await refuse(.workflow, in: store)
            let workflow = WorkflowDefinition(name: "wf", group: "g1", nodes: [
                WorkflowNode(id: "a", bot: "read"), WorkflowNode(id: "b", bot: "post"),
            ], edges: [WorkflowEdge(from: "a", to: "b")])
            _ = try await store.saveFlow(workflow, replace: false)
            let run = try #require(try await store.startRun(of: .workflow, named: "wf", initiator: "ops"))
            #expect(run.state == .failed)
            let steps = try #require(try await store.run(.workflow, id: run.id)?.steps)
            let node = try #require(steps.first { $0.id == "a" })
            #expect(node.state == .failed && node.reason == Self.idle && node.jobState == .rejected)
        }
    }

    @Test("a queue trigger whose group refuses its launch starts nothing and reports the reason as its problem")
    func triggerRefused() async throws {
        try await withTemporaryStore { store, _ in
            for bot in Self.bots { try await store.saveBot(bot) }
            try await refuse(.queueTrigger, in: store)
            let queue = WorkQueueDefinition(name: "invoices", maxRetries: 1, leaseSeconds: 60)
            _ = try await store.saveQueue(queue, replace: false)
            let trigger = QueueTriggerDefinition(queue: "invoices", bot: "read", group: "g1", maxConcurrentJobs: 3)
            guard case .saved = try await store.saveTrigger(trigger) else {
                Issue.record("trigger not saved")
                return
            }
            _ = try await store.addItems((0..<3).map { _ in AddItemRequest() }, to: "invoices")
            #expect(try await store.jobs(JobFilter()).isEmpty, "no job is stored, not even a rejected one")
            let report = try #require(try await store.trigger(ofQueue: "invoices")?.lastEvaluation)
            #expect(report.evaluation.jobsToStart == 3 && report.startedJobs.isEmpty)
            #expect(report.problem == Self.idle)

            // With one slot free, the first launch is taken in and the next ones are refused.
            let beat = WorkerHeartbeat(workerID: "w1", group: "g1", host: "h1",
                                       accounts: [AccountStatus(name: "robot1", limit: 1)], slots: 1, running: 0,
                                       intervalSeconds: 5)
            _ = try await store.apply([], heartbeats: [beat], random: { 0 })
            _ = try await store.addItems([AddItemRequest()], to: "invoices")
            let next = try #require(try await store.trigger(ofQueue: "invoices")?.lastEvaluation)
            #expect(next.startedJobs.count == 1)
            #expect(next.problem == "No slots available: all 1 slots of group g1 are taken")
            #expect(try await store.jobs(JobFilter()).map(\.state) == [.pending])
        }
    }
}
