import Foundation
import Shared
import Testing

@testable import Dispatcher

/// Runs driven through the store with workers' reports, no broker: each decision lands in the
/// transaction of the job change that caused it.
@Suite("Pipeline and workflow runs in the store")
struct FlowStoreTests {
    static let bots = ["read", "post", "mail"].map {
        BotDefinition(name: $0, argv: ["/bin/true"], timeoutSeconds: 30, retry: .fixed(maxAttempts: 3, waitMilliseconds: 0))
    }

    static let pipeline = PipelineDefinition(name: "invoices", group: "g1", environment: "staging", steps: [
        PipelineStep(bot: "read", onFailure: .retry, retries: 1),
        PipelineStep(bot: "post", inputs: ["MODE": "fast"], onFailure: .continue),
        PipelineStep(bot: "mail"),
    ])

    func prepared(_ store: BotyardStore) async throws {
        for bot in Self.bots { try await store.saveBot(bot) }
        #expect(try await store.saveFlow(Self.pipeline, replace: false) == .created)
    }

    /// Reports a started and a finished run of `jobID`'s current attempt.
    func finish(_ store: BotyardStore, job jobID: Int64, _ result: JobOutcome.Result,
                outputs: [String: String] = [:]) async throws {
        let job = try #require(try await store.job(id: jobID))
        let attempt = job.attempts + 1
        let run = "run-\(jobID)-\(attempt)"
        func event(_ kind: JobEvent.Kind, _ outcome: JobOutcome? = nil) -> JobEvent {
            JobEvent(kind: kind, jobID: jobID, attempt: attempt, runID: run, workerID: "w1", host: "h1", account: "a1",
                     outcome: outcome)
        }
        _ = try await store.apply(event(.started), random: 0)
        _ = try await store.apply(event(.finished, JobOutcome(result: result, exitCode: result == .succeeded ? 0 : 1,
                                                              reason: "exit", outputs: outputs)), random: 0)
    }

    /// Starts a run of the workflow a → b (bots read, post) and returns its id.
    func startedWorkflow(_ store: BotyardStore) async throws -> Int64 {
        for bot in Self.bots { try await store.saveBot(bot) }
        let workflow = WorkflowDefinition(name: "wf", group: "g1", nodes: [
            WorkflowNode(id: "a", bot: "read"), WorkflowNode(id: "b", bot: "post"),
        ], edges: [WorkflowEdge(from: "a", to: "b")])
        _ = try await store.saveFlow(workflow, replace: false)
        return try #require(try await store.startRun(of: .workflow, named: "wf", initiator: "ops")).id
    }

    func steps(_ store: BotyardStore, _ kind: FlowKind = .pipeline, run: Int64) async throws -> [FlowStepSnapshot] {
        try #require(try await store.run(kind, id: run)?.steps)
    }

    @Test("starting a run stores it with its first step's job, pending with its outbox message, as a pipeline launch")
    func start() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops"))
            #expect(run.state == .running && run.initiator == "ops")
            let step = try #require(try await steps(store, run: run.id).first)
            let jobID = try #require(step.jobID)
            let job = try #require(try await store.job(id: jobID))
            #expect(job.state == .pending && job.launchMethod == .pipeline && job.initiator == "pipeline run \(run.id)")
            #expect(job.environment == "staging" && job.group == "g1")
            #expect(job.maxAttempts == 2, "retry 1 replaces the bot's 3 attempts by 2")
            #expect(job.flowRun == FlowRunReference(kind: .pipeline, id: run.id, step: "1"))
            #expect(try await store.outbox(limit: 10).map(\.jobID) == [job.id])
            #expect(try await store.startRun(of: .pipeline, named: "nope", initiator: "ops") == nil)
        }
    }

    @Test("a step's success starts the next steps in the same transaction; the run ends after the continue job reported")
    func advancesWithReports() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            let first = try #require(try await steps(store, run: run)[0].jobID)
            try await finish(store, job: first, .succeeded)
            let started = try await steps(store, run: run)
            #expect(started.map(\.state) == [.succeeded, .running, .running])
            #expect(try await store.run(.pipeline, id: run)?.outstanding == 1)
            let post = try #require(started[1].jobID)
            #expect(try await store.job(id: post)?.inputs == ["MODE": "fast"])

            let mail = try #require(started[2].jobID)
            try await finish(store, job: mail, .succeeded)
            #expect(try await store.run(.pipeline, id: run)?.state == .running, "the continue step has not reported")
            try await finish(store, job: post, .failed)
            try await finish(store, job: post, .failed)
            try await finish(store, job: post, .failed)
            let ended = try #require(try await store.run(.pipeline, id: run))
            #expect(ended.state == .succeeded && ended.outstanding == 0 && ended.finishedAt != nil)
            #expect(try await steps(store, run: run)[1].jobState == .dead)
            #expect(try await steps(store, run: run)[1].failureKind == .system)
        }
    }

    @Test("a store reopened mid-run (a restarted dispatcher) continues the run without starting a step twice")
    func survivesRestart() async throws {
        try await withTemporaryStore { store, path in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            let first = try #require(try await steps(store, run: run)[0].jobID)
            let reopened = try await BotyardStore.open(path: path)
            try await finish(reopened, job: first, .succeeded)
            for job in try await steps(reopened, run: run).compactMap(\.jobID).dropFirst() {
                try await finish(reopened, job: job, .succeeded)
            }
            #expect(try await reopened.run(.pipeline, id: run)?.state == .succeeded)
            let jobs = try await reopened.jobs(JobFilter()).filter { $0.flowRun?.id == run }
            #expect(jobs.map { $0.flowRun!.step }.sorted() == ["1", "2", "3"])
        }
    }

    @Test("cancel ends the run, cancels its running jobs with a stop order to their group, skips the rest")
    func cancel() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            let job = try #require(try await steps(store, run: run)[0].jobID)
            guard case .done(let cancelled) = try await store.control(.pipeline, runID: run, .cancel) else {
                Issue.record("cancel refused")
                return
            }
            #expect(cancelled.state == .cancelled && cancelled.reason == "cancelled by api")
            #expect(cancelled.steps?.map(\.state) == [.cancelled, .skipped, .skipped])
            #expect(try await store.job(id: job)?.state == .cancelled)
            #expect(try await store.outbox(limit: 10).map(\.kind) == [.control], "the unpublished dispatch was dropped")
            guard case .refused(let code, _) = try await store.control(.pipeline, runID: run, .pause) else {
                Issue.record("pause of a cancelled run accepted")
                return
            }
            #expect(code == "run_ended")
        }
    }

    @Test("pause and resume answer with stable codes when the run's state does not allow them")
    func refusals() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            guard case .refused(let code, let message) = try await store.control(.pipeline, runID: run, .resume) else {
                Issue.record("resume of a running run accepted")
                return
            }
            #expect(code == "run_not_paused" && message == "a run that is running cannot be resumed")
            guard case .done(let paused) = try await store.control(.pipeline, runID: run, .pause) else { return }
            #expect(paused.state == .paused)
            let first = try #require(paused.steps?[0].jobID)
            try await finish(store, job: first, .succeeded)
            #expect(try await steps(store, run: run).map(\.state) == [.succeeded, .waiting, .waiting])
            guard case .done(let resumed) = try await store.control(.pipeline, runID: run, .resume) else { return }
            #expect(resumed.steps?.map(\.state) == [.succeeded, .running, .running])
            guard case .notFound = try await store.control(.workflow, runID: run, .pause) else {
                Issue.record("a pipeline run found as a workflow run")
                return
            }
        }
    }

    @Test("a workflow passes a node's outputs to its successors' job messages as variables")
    func workflowVariables() async throws {
        try await withTemporaryStore { store, _ in
            let run = try await startedWorkflow(store)
            let a = try #require(try await steps(store, .workflow, run: run)[0].jobID)
            try await finish(store, job: a, .succeeded, outputs: ["TOTAL": "42"])
            let b = try await steps(store, .workflow, run: run)[1]
            #expect(b.variables == ["TOTAL": "42"])
            let message = try #require(try await store.outbox(limit: 10).last { $0.jobID == b.jobID })
            #expect(try JSONCodec.decode(JobEnvelope.self, from: message.body).variables == ["TOTAL": "42"])
            let bJob = try #require(b.jobID)
            try await finish(store, job: bJob, .succeeded)
            #expect(try await store.run(.workflow, id: run)?.state == .succeeded)
        }
    }

    @Test("a dead step's job requeued by hand runs on its own; the failed run stays failed")
    func requeuedStepJob() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let single = PipelineDefinition(name: "single", group: "g1", steps: [PipelineStep(bot: "mail")])
            _ = try await store.saveFlow(single, replace: false)
            let run = try #require(try await store.startRun(of: .pipeline, named: "single", initiator: "ops")).id
            let job = try #require(try await steps(store, run: run)[0].jobID)
            for _ in 1...3 { try await finish(store, job: job, .failed) }
            #expect(try await store.run(.pipeline, id: run)?.state == .failed)
            guard case .requeued(let fresh) = try await store.requeueDead(jobID: job, initiator: "operator") else {
                Issue.record("not requeued")
                return
            }
            #expect(fresh.flowRun == nil && fresh.launchMethod == .manual)
            try await finish(store, job: fresh.id, .succeeded)
            #expect(try await store.run(.pipeline, id: run)?.state == .failed)
            #expect(try await steps(store, run: run)[0].jobID == job)
        }
    }

    @Test("the next step's job is stored in the transaction of the report that ended the step: one fails, both roll back")
    func oneTransaction() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            let first = try #require(try await steps(store, run: run)[0].jobID)
            try await store.database.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER no_second_step BEFORE INSERT ON jobs WHEN NEW.flowStep = '2'
                    BEGIN SELECT RAISE(ABORT, 'disk full'); END
                    """)
            }
            await #expect(throws: StoreError.self) { try await finish(store, job: first, .succeeded) }
            #expect(try await store.job(id: first)?.state == .running, "the job's own change rolled back too")
            #expect(try await steps(store, run: run).map(\.state) == [.running, .waiting, .waiting])
            try await store.database.write { try $0.execute(sql: "DROP TRIGGER no_second_step") }
            _ = try await store.apply(JobEvent(kind: .finished, jobID: first, attempt: 1, runID: "run-\(first)-1",
                                               workerID: "w1", host: "h1", account: "a1",
                                               outcome: JobOutcome(result: .succeeded, exitCode: 0, reason: "exit")),
                                random: 0)
            #expect(try await steps(store, run: run).map(\.state) == [.succeeded, .running, .running])
        }
    }

    @Test("a run whose stored progress cannot be read ends failed; the job's own report is still recorded")
    func brokenRun() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            let first = try #require(try await steps(store, run: run)[0].jobID)
            try await store.database.write { try $0.execute(sql: "UPDATE flow_runs SET progress = '{'") }
            try await finish(store, job: first, .succeeded)
            #expect(try await store.job(id: first)?.state == .succeeded)
            let broken = try #require(try await store.runs(.pipeline).first)
            #expect(broken.state == .failed && broken.finishedAt != nil)
            #expect(broken.reason?.hasPrefix("the run's stored state cannot be used") == true)
            #expect(try await store.outbox(limit: 10).allSatisfy { $0.jobID == first }, "no step started")
        }
    }

    @Test("cancel with a continue job and the blocking step running: both are cancelled, nothing is outstanding")
    func cancelWithOutstanding() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            let first = try #require(try await steps(store, run: run)[0].jobID)
            try await finish(store, job: first, .succeeded)
            let running = try await steps(store, run: run).compactMap(\.jobID).dropFirst()
            let result = try await store.control(.pipeline, runID: run, .cancel, initiator: "ops")
            guard case .done(let cancelled) = result else {
                Issue.record("cancel refused")
                return
            }
            #expect(cancelled.state == .cancelled && cancelled.outstanding == 0)
            #expect(cancelled.steps?.map(\.state) == [.succeeded, .cancelled, .cancelled])
            for job in running { #expect(try await store.job(id: job)?.state == .cancelled) }
            #expect(try await store.outbox(limit: 20).filter { $0.kind == .control }.count == 2)
        }
    }

    @Test("a step whose bot was removed since the run began fails at once, as a system failure")
    func botRemoved() async throws {
        try await withTemporaryStore { store, _ in
            try await prepared(store)
            let run = try #require(try await store.startRun(of: .pipeline, named: "invoices", initiator: "ops")).id
            let first = try #require(try await steps(store, run: run)[0].jobID)
            try await store.database.write { try $0.execute(sql: "DELETE FROM bots WHERE name IN ('post', 'mail')") }
            try await finish(store, job: first, .succeeded)
            let ended = try #require(try await store.run(.pipeline, id: run))
            #expect(ended.state == .failed)
            #expect(ended.steps?.map(\.state) == [.succeeded, .failed, .failed])
            #expect(ended.reason == "step 3 (mail) failed (system failure): no bot named 'mail' any more")
        }
    }

    @Test("a node gets only the outputs of the attempt that counted: a failed attempt's outputs do not leak")
    func outputsOfTheCountedAttempt() async throws {
        try await withTemporaryStore { store, _ in
            let run = try await startedWorkflow(store)
            let a = try #require(try await steps(store, .workflow, run: run)[0].jobID)
            try await finish(store, job: a, .failed, outputs: ["TOTAL": "partial"])
            try await finish(store, job: a, .succeeded)
            #expect(try await store.job(id: a)?.outputs == [:])
            #expect(try await steps(store, .workflow, run: run)[1].variables == [:])
        }
    }
}
