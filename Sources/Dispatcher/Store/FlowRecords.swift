import Foundation
import GRDB
import Shared

/// A row of `flows`: a pipeline's or workflow's latest definition, as JSON.
struct FlowRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "flows"

    enum Columns {
        static let kind = Column(CodingKeys.kind)
        static let name = Column(CodingKeys.name)
    }

    var kind: FlowKind
    var name: String
    var definition: String
    var createdAt: Date
    var updatedAt: Date
}

/// A row of `flow_runs`: one run of a pipeline or workflow, its definition as it started and its
/// engine's progress, both as JSON. `state`, `outstanding` and `reason` repeat the progress for queries.
struct FlowRunRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "flow_runs"

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let kind = Column(CodingKeys.kind)
        static let name = Column(CodingKeys.name)
    }

    var id: Int64?
    var kind: FlowKind
    var name: String
    var definition: String
    var progress: String
    var state: FlowRunState
    var outstanding: Int?
    var reason: String?
    var initiator: String
    var createdAt: Date
    var updatedAt: Date
    var finishedAt: Date?

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    func snapshot(steps: [FlowStepSnapshot]? = nil) -> FlowRunSnapshot {
        FlowRunSnapshot(id: id!, kind: kind, name: name, state: state, reason: reason, initiator: initiator,
                        outstanding: outstanding, createdAt: createdAt, updatedAt: updatedAt, finishedAt: finishedAt,
                        steps: steps)
    }

    /// The run's engine, at its persisted progress.
    func machine<Machine: FlowRunMachine>(_ type: Machine.Type) throws -> Machine {
        Machine(definition: try JSONCodec.decode(Machine.Definition.self, from: Data(definition.utf8)),
                progress: try JSONCodec.decode(Machine.Progress.self, from: Data(progress.utf8)))
    }

    /// Takes over what `machine` now says of the run.
    mutating func record(_ machine: some FlowRunMachine, at now: Date) throws {
        progress = String(decoding: try JSONCodec.encode(machine.progress), as: UTF8.self)
        state = machine.state
        outstanding = machine.outstanding
        reason = machine.reason
        updatedAt = now
        if state.isTerminal && finishedAt == nil { finishedAt = now }
    }
}

extension JobRecord {
    /// How this ended job ended, as a run's engine sees it: a failure is of the kind the job
    /// records (`failed` by a business exception, `dead` after its attempts: system); a `rejected`
    /// launch is a system failure.
    var ending: JobEnding {
        switch state {
        case .succeeded: JobEnding(.succeeded, reason: reason, outputs: outputs)
        case .cancelled: JobEnding(.cancelled, reason: reason, outputs: outputs)
        case .failed: JobEnding(.failed(failureKind ?? .business), reason: reason, outputs: outputs)
        default: JobEnding(.failed(failureKind ?? .system), reason: reason, outputs: outputs)
        }
    }
}
