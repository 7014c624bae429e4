import Foundation
import GRDB
import Shared

/// What saving a definition (pipeline, workflow, work queue) did.
public enum DefinitionSaveResult: Sendable, Equatable {
    case created
    case replaced
    /// A create found the name taken (a replace never answers this).
    case exists
}

/// What a pause, resume or cancel of a run did.
public enum FlowControlResult: Sendable {
    case done(FlowRunSnapshot)
    case notFound
    /// The run's state does not allow it; `code` is stable (`run_ended`, `run_not_running`, `run_not_paused`).
    case refused(code: String, message: String)
}

extension BotyardStore {
    /// Stores a definition: a new one, or (with `replace`) over the one of the same name. Runs
    /// already started keep the definition they started with.
    public func saveFlow<Definition: FlowDefinition>(_ definition: Definition, replace: Bool,
                                                     at now: Date = Date()) async throws -> DefinitionSaveResult {
        try await write("save \(Definition.kind.rawValue)") { db in
            let existing = try FlowRecord.fetchOne(db, key: ["kind": Definition.kind.rawValue, "name": definition.name])
            if existing != nil && !replace { return .exists }
            let json = String(decoding: try JSONCodec.encode(definition), as: UTF8.self)
            try FlowRecord(kind: Definition.kind, name: definition.name, definition: json,
                           createdAt: existing?.createdAt ?? now, updatedAt: now).save(db)
            return existing == nil ? .created : .replaced
        }
    }

    public func flowDefinition<Definition: FlowDefinition>(_ type: Definition.Type, named name: String) async throws
        -> Definition?
    {
        try await read("read \(Definition.kind.rawValue)") { db in
            try FlowRecord.fetchOne(db, key: ["kind": Definition.kind.rawValue, "name": name])
                .map { try JSONCodec.decode(Definition.self, from: Data($0.definition.utf8)) }
        }
    }

    public func flowDefinitions<Definition: FlowDefinition>(_ type: Definition.Type) async throws -> [Definition] {
        try await read("list \(Definition.kind.plural)") { db in
            try FlowRecord.filter(FlowRecord.Columns.kind == Definition.kind.rawValue)
                .order(FlowRecord.Columns.name).fetchAll(db)
                .map { try JSONCodec.decode(Definition.self, from: Data($0.definition.utf8)) }
        }
    }

    /// Deletes a definition; its runs, finished or not, go on and stay readable. False when there was none.
    public func deleteFlow(kind: FlowKind, name: String) async throws -> Bool {
        try await write("delete \(kind.rawValue)") { db in
            try FlowRecord.deleteOne(db, key: ["kind": kind.rawValue, "name": name])
        }
    }

    /// Starts a run of the named definition: stores it and the jobs its first steps start, in one
    /// transaction. Nil when there is no such definition.
    public func startRun(of kind: FlowKind, named name: String, initiator: String,
                         at now: Date = Date()) async throws -> FlowRunSnapshot? {
        try await write("start \(kind.rawValue) run") { db in
            try Self.startRun(of: kind, named: name, initiator: initiator, at: now, in: db)?.snapshot()
        }
    }

    /// Starts a run in the caller's transaction; nil when there is no such definition.
    static func startRun(of kind: FlowKind, named name: String, initiator: String, at now: Date,
                         in db: Database) throws -> FlowRunRecord? {
        guard let flow = try FlowRecord.fetchOne(db, key: ["kind": kind.rawValue, "name": name]) else { return nil }
        var run = FlowRunRecord(id: nil, kind: kind, name: name, definition: flow.definition, progress: "",
                                state: .running, outstanding: nil, reason: nil, initiator: initiator,
                                createdAt: now, updatedAt: now, finishedAt: nil)
        switch kind {
        case .pipeline: try begin(&run, as: PipelineRunMachine.self, at: now, in: db)
        case .workflow: try begin(&run, as: WorkflowRunMachine.self, at: now, in: db)
        }
        return run
    }

    /// A run with each step or node and its job; nil when there is no run `id` of this kind.
    public func run(_ kind: FlowKind, id: Int64) async throws -> FlowRunSnapshot? {
        try await read("read \(kind.rawValue) run") { db in
            guard let run = try FlowRunRecord.fetchOne(db, key: id), run.kind == kind else { return nil }
            let steps = switch kind {
            case .pipeline: try run.machine(PipelineRunMachine.self).steps
            case .workflow: try run.machine(WorkflowRunMachine.self).steps
            }
            let jobs = try JobRecord.fetchAll(db, keys: steps.compactMap(\.jobID))
            let byID = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id!, $0) })
            return run.snapshot(steps: steps.map { step in
                guard let job = step.jobID.flatMap({ byID[$0] }) else { return step }
                var step = step
                step.jobState = job.state
                step.attempts = job.attempts
                step.outputs = job.outputs
                step.startedAt = job.startedAt
                step.finishedAt = job.finishedAt
                return step
            })
        }
    }

    /// Runs of one kind (of one definition, when `name` is given), newest first.
    public func runs(_ kind: FlowKind, named name: String? = nil, limit: Int = 100) async throws -> [FlowRunSnapshot] {
        try await read("list \(kind.rawValue) runs") { db in
            var request = FlowRunRecord.filter(FlowRunRecord.Columns.kind == kind.rawValue)
            if let name { request = request.filter(FlowRunRecord.Columns.name == name) }
            return try request.order(FlowRunRecord.Columns.id.desc).limit(limit).fetchAll(db).map { $0.snapshot() }
        }
    }

    /// Pauses, resumes or cancels a run; what it decides (jobs to start or stop) happens in the same transaction.
    public func control(_ kind: FlowKind, runID: Int64, _ command: FlowCommand, initiator: String = "api",
                        at now: Date = Date()) async throws -> FlowControlResult {
        let outcome: Result<Void, FlowRunError>? = try await write("\(command.rawValue) \(kind.rawValue) run") { db in
            guard var run = try FlowRunRecord.fetchOne(db, key: runID), run.kind == kind else { return nil }
            let event: FlowEvent = switch command {
            case .pause: .pause
            case .resume: .resume
            case .cancel: .cancel(reason: "cancelled by \(initiator)")
            }
            return try Self.drive(&run, event, at: now, in: db)
        }
        switch outcome {
        case nil: return .notFound
        case .failure(let refusal)?: return .refused(code: refusal.code.rawValue, message: refusal.message)
        case .success?: return try await run(kind, id: runID).map(FlowControlResult.done) ?? .notFound
        }
    }

    /// Tells a job's run that the job ended (called by ``transition(_:to:attempt:reason:at:in:)``),
    /// in the job change's transaction: a database error rolls both back. A run whose stored
    /// definition or progress cannot be used any more ends `failed` instead, so that it never
    /// holds up the reports of other jobs applied in the same batch.
    static func flowJobEnded(_ job: JobRecord, at now: Date, in db: Database) throws {
        guard let runID = job.flowRun, let step = job.flowStep, var run = try FlowRunRecord.fetchOne(db, key: runID)
        else { return }
        do {
            try db.inSavepoint {
                // A job's ending is never refused: the engine only records it once the run has ended.
                _ = try drive(&run, .jobEnded(at: step, job.ending), at: now, in: db)
                return .commit
            }
        } catch let error where !(error is DatabaseError) {
            guard var broken = try FlowRunRecord.fetchOne(db, key: runID), !broken.state.isTerminal else { return }
            broken.state = .failed
            let position = "\(broken.kind == .pipeline ? "step" : "node") \(step)"
            broken.reason = "the run's stored state cannot be used (\(error)); job \(job.id!) of "
                + "\(broken.kind.rawValue) \(position) ended \(job.state.rawValue)"
            broken.updatedAt = now
            broken.finishedAt = now
            try broken.update(db)
        }
    }

    private static func begin<Machine: FlowRunMachine>(_ run: inout FlowRunRecord, as type: Machine.Type, at now: Date,
                                                       in db: Database) throws {
        let definition = try JSONCodec.decode(Machine.Definition.self, from: Data(run.definition.utf8))
        try run.record(Machine(definition: definition, progress: nil), at: now)
        try run.insert(db)
        _ = try drive(&run, .start, at: now, in: db)
    }

    private static func drive(_ run: inout FlowRunRecord, _ event: FlowEvent, at now: Date,
                              in db: Database) throws -> Result<Void, FlowRunError> {
        switch run.kind {
        case .pipeline: try drive(&run, as: PipelineRunMachine.self, event, at: now, in: db)
        case .workflow: try drive(&run, as: WorkflowRunMachine.self, event, at: now, in: db)
        }
    }

    /// Feeds `event` to the run's engine and carries out its decisions: jobs to start are stored
    /// (a step whose bot is gone, or whose launch its group's admission refuses, ends at once, as a
    /// system failure), the progress is saved, then jobs to stop are cancelled (their endings reach
    /// a run that has already recorded the cancel).
    private static func drive<Machine: FlowRunMachine>(_ run: inout FlowRunRecord, as type: Machine.Type,
                                                       _ event: FlowEvent, at now: Date,
                                                       in db: Database) throws -> Result<Void, FlowRunError> {
        var machine = try run.machine(Machine.self)
        var events = [event]
        var cancels: [Int64] = []
        while !events.isEmpty {
            let decisions: [FlowDecision]
            do {
                decisions = try machine.handle(events.removeFirst())
            } catch {
                return .failure(error)
            }
            for decision in decisions {
                switch decision {
                case .start(let step, let variables):
                    let launch = machine.launch(at: step, variables: variables)
                    guard let job = try launchJob(launch, run: run, step: step, at: now, in: db) else {
                        events.append(.jobEnded(at: step, .notStarted("no bot named '\(launch.bot)' any more")))
                        continue
                    }
                    machine.attach(jobID: job.id!, at: step)
                    // Refused by its group's admission: it ended as it was stored, and this run is its only
                    // listener (``flowJobEnded(_:at:in:)`` would read the progress not yet saved).
                    if job.state == .rejected { events.append(.jobEnded(at: step, job.ending)) }
                case .cancelJob(let jobID):
                    cancels.append(jobID)
                }
            }
        }
        try run.record(machine, at: now)
        try run.update(db)
        for jobID in cancels {
            guard var job = try JobRecord.fetch(id: jobID, in: db), !job.state.isTerminal else { continue }
            try cancelUnfinished(&job, reason: run.reason ?? "its \(run.kind.rawValue) run was cancelled", at: now,
                                 in: db)
        }
        return .success(())
    }

    /// Stores the job of a step or node: `pending` with its outbox row, or `rejected` when its
    /// group's admission table refuses a `pipeline` or `workflow` launch; nil when its bot no longer exists.
    private static func launchJob(_ launch: FlowLaunch, run: FlowRunRecord, step: String, at now: Date,
                                  in db: Database) throws -> JobRecord? {
        guard let bot = try BotRecord.fetchOne(db, key: launch.bot)?.definition else { return nil }
        var retry = bot.retry
        if let attempts = launch.maxAttempts { retry.maxAttempts = attempts }
        let position = run.kind == .pipeline ? "step \(step)" : "node \(step)"
        var job = JobRecord(
            id: nil, bot: bot.name, botSnapshot: bot, group: launch.group, priority: launch.priority,
            environment: launch.environment, inputs: launch.inputs, account: nil, state: .pending, attempts: 0,
            dispatchedAttempt: 1, runID: nil, retryPolicy: retry, timeoutSeconds: bot.timeoutSeconds,
            launchMethod: run.kind.launchMethod, initiator: "\(run.kind.rawValue) run \(run.id!)", exitCode: nil,
            outputs: [:], reason: nil, workerID: nil, host: nil, ranAs: nil, submittedAt: now, startedAt: nil,
            finishedAt: nil, updatedAt: now, flowRun: run.id, flowStep: step,
            variables: launch.variables.isEmpty ? nil : launch.variables)
        let submitted = "submitted by \(run.kind.rawValue) run \(run.id!) (\(run.name)), \(position)"
        if let rejection = try admissionRejection(of: bot, into: launch.group, method: job.launchMethod, mode: nil,
                                                  at: now, in: db) {
            try insertRejected(&job, reason: submitted, rejection: rejection, at: now, in: db)
        } else {
            try insertPending(&job, reason: submitted, at: now, in: db)
        }
        return job
    }
}
