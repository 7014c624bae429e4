import Foundation
import GRDB
import Shared

/// A row of `bots`: the latest definition of each bot.
struct BotRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "bots"

    var name: String
    var definition: BotDefinition
    var createdAt: Date
    var updatedAt: Date

    // The definition's JSON is read back by ``DecodedDefinitions`` with the same codec.
    static func databaseJSONEncoder(for column: String) -> JSONEncoder { JSONCodec.makeEncoder() }
    static func databaseJSONDecoder(for column: String) -> JSONDecoder { JSONCodec.makeDecoder() }
}

/// A row of `jobs`.
struct JobRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "jobs"

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let state = Column(CodingKeys.state)
        static let bot = Column(CodingKeys.bot)
        static let group = Column(CodingKeys.group)
        static let priority = Column(CodingKeys.priority)
        static let environment = Column(CodingKeys.environment)
        static let parentJob = Column(CodingKeys.parentJob)
    }

    var id: Int64?
    var bot: String
    /// The bot as it was when the job was submitted: every attempt runs the same definition.
    var botSnapshot: BotDefinition
    var group: String
    var priority: Priority
    var environment: String
    var inputs: [String: String]
    var account: String?
    var state: JobState
    /// Runs of the bot that started (each one is an attempt, a rerun after a lost worker too).
    var attempts: Int
    /// The attempt the newest message of this job was published for; messages of earlier
    /// attempts (a redelivered copy whose outcome was already counted) are superseded.
    var dispatchedAttempt: Int
    /// The run whose outcome counts: the last one that started.
    var runID: String?
    var retryPolicy: RetryPolicy
    var timeoutSeconds: Int
    var launchMethod: LaunchMethod
    var initiator: String
    var exitCode: Int32?
    var outputs: [String: String]
    var reason: String?
    var workerID: String?
    var host: String?
    var ranAs: String?
    var submittedAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var updatedAt: Date
    /// For a targeted launch: the host asked for (nil: any host serving the account).
    var targetHost: String?
    /// For a targeted launch: the host the robot queue dispatched it to last.
    var dispatchHost: String?
    /// For a targeted launch: how it waits in the robot queue (each time it enters it).
    var robotQueuePolicy: RobotQueuePolicy?
    /// Tries the robot queue made to start it, over every time it entered the queue.
    var robotQueueTries = 0
    /// Set when the job ends `failed` (business) or `dead` (system).
    var failureKind: FailureKind?
    /// The pipeline or workflow run that started it (`launchMethod` tells which kind).
    var flowRun: Int64? = nil
    /// Its step's number or node's id in that run.
    var flowStep: String? = nil
    /// Variables from a workflow's earlier nodes (`BOTYARD_VAR_<KEY>`).
    var variables: [String: String]? = nil
    /// The job's API token, given to its bot; every new job gets its own when it is stored
    /// (``PreparedJob``), not in this default: every row read would draw one for nothing.
    var apiToken: String? = nil
    /// The work queue whose trigger started it.
    var triggerQueue: String? = nil
    /// The job whose bot submitted this one with its token (`bot-started-by-bot`).
    var parentJob: Int64? = nil

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The message that starts attempt `attempt`. Never a credential: a UI bot's worker asks for it
    /// (``CredentialRequest``).
    func envelope(attempt: Int) -> JobEnvelope {
        JobEnvelope(jobID: id!, attempt: attempt, maxAttempts: retryPolicy.maxAttempts, bot: botSnapshot, group: group,
                    priority: priority, environment: environment, inputs: inputs, account: account,
                    host: account == nil ? nil : dispatchHost, timeoutSeconds: timeoutSeconds,
                    submittedAt: submittedAt, variables: variables, jobToken: apiToken)
    }

    func snapshot(history: [JobHistoryEntry]? = nil, children: [Int64]? = nil) -> JobSnapshot {
        JobSnapshot(id: id!, bot: bot, botVersion: botSnapshot.version, group: group, priority: priority,
                    environment: environment, inputs: inputs, account: account, state: state, attempts: attempts,
                    maxAttempts: retryPolicy.maxAttempts, timeoutSeconds: timeoutSeconds, launchMethod: launchMethod,
                    initiator: initiator, exitCode: exitCode, outputs: outputs, reason: reason, workerID: workerID,
                    host: host, ranAs: ranAs, submittedAt: submittedAt, startedAt: startedAt, finishedAt: finishedAt,
                    updatedAt: updatedAt, history: history, failureKind: failureKind, variables: variables,
                    flowRun: flowRun.map {
                        FlowRunReference(kind: launchMethod == .workflow ? .workflow : .pipeline, id: $0,
                                         step: flowStep ?? "")
                    },
                    parentJob: parentJob, children: children)
    }
}

/// A row of `job_history`: one state change.
struct JobHistoryRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "job_history"

    enum Columns {
        static let jobID = Column(CodingKeys.jobID)
        static let id = Column(CodingKeys.id)
    }

    var id: Int64?
    var jobID: Int64
    var at: Date
    var fromState: JobState?
    var toState: JobState
    var attempt: Int
    var reason: String

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var entry: JobHistoryEntry {
        JobHistoryEntry(at: at, from: fromState, to: toState, attempt: attempt, reason: reason)
    }
}

/// A row of `job_logs`: the log tail of one attempt.
struct JobLogRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "job_logs"

    var jobID: Int64
    var attempt: Int
    var log: String
}

/// A row of `cleanup_logs`: what the account's cleanup command printed after one attempt.
struct CleanupLogRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "cleanup_logs"

    var jobID: Int64
    var attempt: Int
    var log: String
}

/// A row of `outbox`: a message to publish, written in the same transaction as the state
/// change it belongs to, deleted once the broker confirmed it.
struct OutboxRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "outbox"

    enum Kind: String, Codable {
        /// First attempt of a job: on confirm, `pending` becomes `queued`.
        case dispatch
        case retry
        case dead
        case control
    }

    var id: Int64?
    var jobID: Int64
    var kind: Kind
    var exchange: String
    var routingKey: String
    var headers: [String: String]
    var body: Data
    var messageID: String
    var mandatory: Bool
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var message: AMQPMessage {
        AMQPMessage(exchange: exchange, routingKey: routingKey, body: body, messageID: messageID,
                    headers: headers.mapValues { .string($0) }, mandatory: mandatory)
    }
}

extension OutboxRecord {
    /// The columns a record is read from, in the order ``init(row:)`` reads them
    /// (``databaseSelection``, ``BotyardStore/outboxSQL``).
    enum Columns: Int, CaseIterable {
        case id, jobID, kind, exchange, routingKey, headers, body, messageID, mandatory, createdAt
    }

    static var databaseSelection: [any SQLSelectable] { Columns.allCases.map { Column("\($0)") } }

    /// `outbox."id", outbox."jobID", …`: the columns for a statement of its own.
    static let selection = Columns.allCases.map { "outbox.\"\($0)\"" }.joined(separator: ", ")

    /// Read by position, in the order of ``Columns``: the relay reads every row, and a column read
    /// by its name costs a hash of the name, lowercased, every time (with the first dispatch's body,
    /// a seventh of the dispatcher's CPU while it published batches). Most rows carry no headers.
    init(row: Row) throws {
        func at(_ column: Columns) -> Int { column.rawValue }
        id = row[at(.id)]
        jobID = row[at(.jobID)]
        let kind: String = row[at(.kind)]
        guard let known = Kind(rawValue: kind) else {
            throw DatabaseError(message: "outbox row \(id ?? 0) has an unknown kind: \(kind)")
        }
        self.kind = known
        exchange = row[at(.exchange)]
        routingKey = row[at(.routingKey)]
        let headers: String = row[at(.headers)]
        self.headers = headers == "{}" ? [:] : try JSONCodec.decode([String: String].self, from: Data(headers.utf8))
        body = row[at(.body)]
        messageID = row[at(.messageID)]
        mandatory = row[at(.mandatory)]
        createdAt = row[at(.createdAt)]
    }
}
