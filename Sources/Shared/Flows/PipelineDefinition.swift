/// A pipeline: bots run one after the other on a runner group, in one environment.
public struct PipelineDefinition: Codable, Sendable, Equatable {
    public var name: String
    /// Where steps run unless a step names its own group.
    public var group: String
    /// `dev`, `staging` or `prod`, for every step (default `prod`).
    public var environment: String
    /// Priority of the steps' jobs (default `normal`).
    public var priority: Priority
    public var steps: [PipelineStep]

    public init(name: String, group: String, environment: String = "prod", priority: Priority = .normal,
                steps: [PipelineStep]) {
        self.name = name
        self.group = group
        self.environment = environment
        self.priority = priority
        self.steps = steps
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            group: try container.decode(String.self, forKey: .group),
            environment: try container.decodeIfPresent(String.self, forKey: .environment) ?? "prod",
            priority: try container.decodeIfPresent(Priority.self, forKey: .priority) ?? .normal,
            steps: try container.decode([PipelineStep].self, forKey: .steps))
    }

    public static let maximumSteps = 100

    /// Problems that make this definition unusable, in words; empty when it is valid. Whether
    /// its bots exist is checked by the dispatcher.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(name) { problems.append("name must be a valid name") }
        if !Names.isValidGroup(group) { problems.append(Names.groupRule) }
        if !SubmitJobRequest.environments.contains(environment) {
            problems.append("environment must be one of dev, staging, prod")
        }
        if steps.isEmpty { problems.append("a pipeline needs at least one step") }
        if steps.count > Self.maximumSteps { problems.append("a pipeline may have at most \(Self.maximumSteps) steps") }
        for (index, step) in steps.enumerated() {
            problems.append(contentsOf: step.problems.map { "step \(index + 1): \($0)" })
        }
        return problems
    }
}

/// One step of a pipeline: a bot and what a failure of it does to the run.
public struct PipelineStep: Codable, Sendable, Equatable {
    /// What the run does when the step's job fails (a business exception, or a system failure
    /// after the job's attempts).
    public enum OnFailure: String, Codable, Sendable {
        /// The run stops; later steps never start.
        case stop
        /// The step is fire-and-forget: the run goes on at once, and its failure does not stop it.
        case `continue`
        /// The step's job gets `retries` more attempts (its waits stay the bot's), then `stop`.
        case retry
    }

    public var bot: String
    public var group: String?
    public var inputs: [String: String]
    public var onFailure: OnFailure
    /// With `retry`: attempts after the first one.
    public var retries: Int?

    public init(bot: String, group: String? = nil, inputs: [String: String] = [:], onFailure: OnFailure = .stop,
                retries: Int? = nil) {
        self.bot = bot
        self.group = group
        self.inputs = inputs
        self.onFailure = onFailure
        self.retries = retries
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            bot: try container.decode(String.self, forKey: .bot),
            group: try container.decodeIfPresent(String.self, forKey: .group),
            inputs: try container.decodeIfPresent([String: String].self, forKey: .inputs) ?? [:],
            onFailure: try container.decodeIfPresent(OnFailure.self, forKey: .onFailure) ?? .stop,
            retries: try container.decodeIfPresent(Int.self, forKey: .retries))
    }

    /// Most extra attempts a `retry` step may ask for.
    public static let maximumRetries = RetryPolicy.maximumAttempts - 1

    var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(bot) { problems.append("bot must be a valid name") }
        if let group, !Names.isValidGroup(group) { problems.append(Names.groupRule) }
        problems.append(contentsOf: InputRules.problems(inputs))
        switch (onFailure, retries) {
        case (.retry, nil):
            problems.append("onFailure retry needs retries (1-\(Self.maximumRetries))")
        case (.retry, let retries?) where !(1...Self.maximumRetries).contains(retries):
            problems.append("retries must be between 1 and \(Self.maximumRetries)")
        case (.stop, _?), (.continue, _?):
            problems.append("retries may only be given with onFailure retry")
        default:
            break
        }
        return problems
    }
}
