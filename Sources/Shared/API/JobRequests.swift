import Foundation

/// `POST /v1/jobs`: one request to run a bot.
public struct SubmitJobRequest: Codable, Sendable {
    public var bot: String
    public var group: String
    public var priority: Priority?
    public var environment: String?
    public var inputs: [String: String]?
    /// Run only under this account (a targeted launch: it waits in the robot queue, not in the
    /// group's queue, until the account can start it).
    public var account: String?
    /// With `account`: only on this host.
    public var host: String?
    /// With `account`: how the launch waits in the robot queue.
    public var robotQueue: RobotQueuePolicy?
    /// Overrides the bot's timeout for this job.
    public var timeoutSeconds: Int?
    /// Overrides the bot's retry policy for this job.
    public var retry: RetryPolicy?
    /// How the job came to be; `api` when left out.
    public var launchMethod: LaunchMethod?
    public var initiator: String?
    /// What happens when no slot is free; when left out, the group's ``LaunchAdmissionTable``
    /// picks it by launch method (a launch for an account then waits in the robot queue).
    public var admission: AdmissionMode?

    public init(bot: String, group: String, priority: Priority? = nil, environment: String? = nil,
                inputs: [String: String]? = nil, account: String? = nil, timeoutSeconds: Int? = nil,
                retry: RetryPolicy? = nil, launchMethod: LaunchMethod? = nil, initiator: String? = nil,
                admission: AdmissionMode? = nil, host: String? = nil, robotQueue: RobotQueuePolicy? = nil) {
        self.bot = bot
        self.group = group
        self.priority = priority
        self.environment = environment
        self.inputs = inputs
        self.account = account
        self.timeoutSeconds = timeoutSeconds
        self.retry = retry
        self.launchMethod = launchMethod
        self.initiator = initiator
        self.admission = admission
        self.host = host
        self.robotQueue = robotQueue
    }

    public static let maximumInputBytes = InputRules.maximumBytes
    public static let environments: Set<String> = ["dev", "staging", "prod"]

    /// Problems with the request on its own (the bot's existence is checked by the dispatcher).
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(bot) { problems.append("bot must be a valid name") }
        if !Names.isValidGroup(group) {
            problems.append(Names.groupRule)
        }
        if let environment, !Self.environments.contains(environment) {
            problems.append("environment must be one of dev, staging, prod")
        }
        if let account, !Names.isValidAccount(account) { problems.append(Names.accountRule) }
        if let host, !Names.isValid(host) { problems.append("host must be a valid name") }
        if host != nil && account == nil { problems.append("host may only be given with an account") }
        if admission == .bounded && account != nil {
            problems.append("admission bounded limits a group's queue; a launch for an account waits in the robot "
                            + "queue (use queue or sync)")
        }
        if let robotQueue {
            if account == nil { problems.append("robotQueue may only be given with an account") }
            problems.append(contentsOf: robotQueue.problems)
        }
        if let inputs { problems.append(contentsOf: InputRules.problems(inputs)) }
        if let timeoutSeconds, !(1...BotDefinition.maximumTimeoutSeconds).contains(timeoutSeconds) {
            problems.append("timeoutSeconds must be between 1 and \(BotDefinition.maximumTimeoutSeconds)")
        }
        if let retry { problems.append(contentsOf: retry.problems) }
        if let initiator, initiator.count > 128 { problems.append("initiator may have at most 128 characters") }
        return problems
    }
}

/// How a job came to be.
public enum LaunchMethod: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable {
    case manual, api, schedule, queueTrigger = "queue-trigger", pipeline, workflow
    case botStartedByBot = "bot-started-by-bot"
}

/// `201 Created` answer to `POST /v1/jobs`.
public struct JobCreated: Codable, Sendable {
    public var id: Int64
    public var state: JobState

    public init(id: Int64, state: JobState) {
        self.id = id
        self.state = state
    }
}

/// A job as the API shows it.
public struct JobSnapshot: Codable, Sendable {
    public var id: Int64
    public var bot: String
    public var botVersion: String
    public var group: String
    public var priority: Priority
    public var environment: String
    public var inputs: [String: String]
    public var account: String?
    public var state: JobState
    /// Attempts started so far.
    public var attempts: Int
    public var maxAttempts: Int
    public var timeoutSeconds: Int
    public var launchMethod: LaunchMethod
    public var initiator: String
    public var exitCode: Int32?
    public var outputs: [String: String]
    /// Why the job is where it is (the last failure, the cancel, the dead-lettering).
    public var reason: String?
    /// For a job that ended `failed` or `dead`: whether the bot declared it (business) or not (system).
    public var failureKind: FailureKind?
    public var workerID: String?
    public var host: String?
    /// The account the last attempt ran under.
    public var ranAs: String?
    public var submittedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var updatedAt: Date
    /// Every state change, oldest first (on `GET /v1/jobs/{id}` only).
    public var history: [JobHistoryEntry]?
    /// Variables from a workflow's earlier nodes (`BOTYARD_VAR_<KEY>`).
    public var variables: [String: String]?
    /// The pipeline or workflow run that started it, and where in it.
    public var flowRun: FlowRunReference?
    /// The job whose bot started this one (`bot-started-by-bot`).
    public var parentJob: Int64?
    /// The jobs this job's bot started, oldest first (on `GET /v1/jobs/{id}` only).
    public var children: [Int64]?

    public init(
        id: Int64,
        bot: String,
        botVersion: String,
        group: String,
        priority: Priority,
        environment: String,
        inputs: [String: String],
        account: String?,
        state: JobState,
        attempts: Int,
        maxAttempts: Int,
        timeoutSeconds: Int,
        launchMethod: LaunchMethod,
        initiator: String,
        exitCode: Int32?,
        outputs: [String: String],
        reason: String?,
        workerID: String?,
        host: String?,
        ranAs: String?,
        submittedAt: Date,
        startedAt: Date?,
        finishedAt: Date?,
        updatedAt: Date,
        history: [JobHistoryEntry]?,
        failureKind: FailureKind? = nil,
        variables: [String: String]? = nil,
        flowRun: FlowRunReference? = nil,
        parentJob: Int64? = nil,
        children: [Int64]? = nil
    ) {
        self.id = id
        self.bot = bot
        self.botVersion = botVersion
        self.group = group
        self.priority = priority
        self.environment = environment
        self.inputs = inputs
        self.account = account
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.timeoutSeconds = timeoutSeconds
        self.launchMethod = launchMethod
        self.initiator = initiator
        self.exitCode = exitCode
        self.outputs = outputs
        self.reason = reason
        self.workerID = workerID
        self.host = host
        self.ranAs = ranAs
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.updatedAt = updatedAt
        self.history = history
        self.failureKind = failureKind
        self.variables = variables
        self.flowRun = flowRun
        self.parentJob = parentJob
        self.children = children
    }
}

/// Where a job sits in a pipeline or workflow run.
public struct FlowRunReference: Codable, Sendable, Equatable {
    public var kind: FlowKind
    public var id: Int64
    /// The step's number or the node's id.
    public var step: String

    public init(kind: FlowKind, id: Int64, step: String) {
        self.kind = kind
        self.id = id
        self.step = step
    }
}

/// One state change of a job.
public struct JobHistoryEntry: Codable, Sendable, Equatable {
    public var at: Date
    public var from: JobState?
    public var to: JobState
    public var attempt: Int
    public var reason: String

    public init(at: Date, from: JobState?, to: JobState, attempt: Int, reason: String) {
        self.at = at
        self.from = from
        self.to = to
        self.attempt = attempt
        self.reason = reason
    }
}

/// The body of every API error: `{"error": {"code": "...", "message": "..."}}`.
public struct APIErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
        /// The job the request was recorded as, when it was (a launch `rejected` for want of a slot).
        public var jobID: Int64?
    }

    public var error: Detail

    public init(code: String, message: String, jobID: Int64? = nil) {
        self.error = Detail(code: code, message: message, jobID: jobID)
    }
}

/// `GET /v1/stats`: how many jobs are in each state, and messages still to publish.
public struct DispatcherStats: Codable, Sendable {
    public var jobs: [String: Int]
    public var outbox: Int

    public init(jobs: [String: Int], outbox: Int) {
        self.jobs = jobs
        self.outbox = outbox
    }

    public func count(_ state: JobState) -> Int { jobs[state.rawValue] ?? 0 }
}
