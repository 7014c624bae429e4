import Foundation

/// The message a job travels in through `botyard.jobs`: everything a worker needs to run one
/// attempt without asking the dispatcher.
public struct JobEnvelope: Codable, Sendable, Equatable {
    public var jobID: Int64
    /// 1-based number of the attempt this message starts.
    public var attempt: Int
    /// Attempts the job may use in all; a redelivery past it is not run.
    public var maxAttempts: Int
    public var bot: BotDefinition
    public var group: String
    public var priority: Priority
    public var environment: String
    public var inputs: [String: String]
    /// Run only under this account, when set (with `host`: a launch from the robot queue,
    /// delivered through the account's own queue).
    public var account: String?
    public var host: String?
    /// Time limit of this attempt (the job's override or the bot's default).
    public var timeoutSeconds: Int
    public var submittedAt: Date
    /// Variables from a workflow's earlier nodes, seen by the bot as `BOTYARD_VAR_<KEY>`.
    public var variables: [String: String]?
    /// The job's own API token (`BOTYARD_JOB_TOKEN`): the dispatcher knows the job by it, e.g.
    /// when its bot claims work items.
    public var jobToken: String?

    public init(
        jobID: Int64,
        attempt: Int,
        maxAttempts: Int,
        bot: BotDefinition,
        group: String,
        priority: Priority,
        environment: String,
        inputs: [String: String],
        account: String?,
        host: String? = nil,
        timeoutSeconds: Int,
        submittedAt: Date,
        variables: [String: String]? = nil,
        jobToken: String? = nil
    ) {
        self.jobID = jobID
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.bot = bot
        self.group = group
        self.priority = priority
        self.environment = environment
        self.inputs = inputs
        self.account = account
        self.host = host
        self.timeoutSeconds = timeoutSeconds
        self.submittedAt = submittedAt
        self.variables = variables
        self.jobToken = jobToken
    }

    /// The routing key in `botyard.jobs` (and, kept through dead-lettering, in `botyard.retry`).
    public var routingKey: String {
        if let account, let host { return Topology.accountRoutingKey(host: host, account: account) }
        return Topology.jobRoutingKey(group: group, priority: priority, lane: Topology.Lane(needsUI: bot.needsUI))
    }

    /// The AMQP message id: unique per job and attempt, so duplicates can be told apart.
    public var messageID: String { "job-\(jobID)-\(attempt)" }
}
