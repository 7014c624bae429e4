/// What a schedule starts: a bot's job on a group, or a run of a pipeline or a workflow.
///
/// In JSON, one of `{"bot": "invoice-poster", "group": "finance"}` (with optional `environment`,
/// `priority` and `inputs` for the job), `{"pipeline": "month-end"}` or `{"workflow": "onboarding"}`.
public enum ScheduleTarget: Sendable, Equatable {
    case bot(ScheduledJob)
    /// A run of the pipeline or workflow of that name.
    case flow(FlowKind, name: String)

    public static func pipeline(_ name: String) -> ScheduleTarget { .flow(.pipeline, name: name) }
    public static func workflow(_ name: String) -> ScheduleTarget { .flow(.workflow, name: name) }

    /// Problems with its names and the job's settings, in words (whether they exist is the
    /// dispatcher's to check).
    var problems: [String] {
        switch self {
        case .bot(let job): job.problems
        case .flow(let kind, let name): Names.isValid(name) ? [] : ["\(kind.rawValue) must be a valid name"]
        }
    }
}

/// The job a schedule submits for a bot.
public struct ScheduledJob: Sendable, Equatable {
    public var bot: String
    public var group: String
    public var environment: String
    public var priority: Priority
    public var inputs: [String: String]

    public init(bot: String, group: String, environment: String = "prod", priority: Priority = .normal,
                inputs: [String: String] = [:]) {
        self.bot = bot
        self.group = group
        self.environment = environment
        self.priority = priority
        self.inputs = inputs
    }

    var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(bot) { problems.append("bot must be a valid name") }
        if !Names.isValidGroup(group) { problems.append(Names.groupRule) }
        if !SubmitJobRequest.environments.contains(environment) {
            problems.append("environment must be one of dev, staging, prod")
        }
        problems += InputRules.problems(inputs)
        return problems
    }
}

extension ScheduleTarget: Codable {
    private enum CodingKeys: String, CodingKey {
        case bot, group, environment, priority, inputs, pipeline, workflow
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let named = [CodingKeys.bot, .pipeline, .workflow].filter(container.contains)
        guard named.count == 1 else {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath, debugDescription: "names exactly one of bot, pipeline or workflow"))
        }
        switch named[0] {
        case .bot:
            self = .bot(ScheduledJob(
                bot: try container.decode(String.self, forKey: .bot),
                group: try container.decode(String.self, forKey: .group),
                environment: try container.decodeIfPresent(String.self, forKey: .environment) ?? "prod",
                priority: try container.decodeIfPresent(Priority.self, forKey: .priority) ?? .normal,
                inputs: try container.decodeIfPresent([String: String].self, forKey: .inputs) ?? [:]))
        default:
            let jobKeys = [CodingKeys.group, .environment, .priority, .inputs].filter(container.contains)
            guard jobKeys.isEmpty else {
                throw DecodingError.dataCorrupted(DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "group, environment, priority and inputs are for a bot; a \(named[0].rawValue) "
                        + "has its own"))
            }
            let name = try container.decode(String.self, forKey: named[0])
            self = .flow(named[0] == .pipeline ? .pipeline : .workflow, name: name)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .bot(let job):
            try container.encode(job.bot, forKey: .bot)
            try container.encode(job.group, forKey: .group)
            try container.encode(job.environment, forKey: .environment)
            try container.encode(job.priority, forKey: .priority)
            try container.encode(job.inputs, forKey: .inputs)
        case .flow(let kind, let name):
            try container.encode(name, forKey: kind == .pipeline ? .pipeline : .workflow)
        }
    }
}
