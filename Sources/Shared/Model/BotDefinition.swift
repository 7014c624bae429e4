/// A named automation: what to run and how to treat its failures.
public struct BotDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    /// Program and arguments, run directly (never through a shell).
    public var argv: [String]
    public var workingDirectory: String?
    /// Needs the account's GUI session: at most one such bot per account at a time.
    public var needsUI: Bool
    /// Default time limit of one attempt.
    public var timeoutSeconds: Int
    /// Default retry policy of the bot's jobs.
    public var retry: RetryPolicy
    /// Mutex tags: two runs that share a mark never run on one account at once (e.g. two bots
    /// that drive the same desktop application).
    public var marks: [String]

    public init(
        name: String,
        version: String = "1",
        argv: [String],
        workingDirectory: String? = nil,
        needsUI: Bool = false,
        timeoutSeconds: Int = 3600,
        retry: RetryPolicy = .init(),
        marks: [String] = []
    ) {
        self.name = name
        self.version = version
        self.argv = argv
        self.workingDirectory = workingDirectory
        self.needsUI = needsUI
        self.timeoutSeconds = timeoutSeconds
        self.retry = retry
        self.marks = marks
    }

    /// Definitions stored before bots had marks read as having none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            version: try container.decode(String.self, forKey: .version),
            argv: try container.decode([String].self, forKey: .argv),
            workingDirectory: try container.decodeIfPresent(String.self, forKey: .workingDirectory),
            needsUI: try container.decode(Bool.self, forKey: .needsUI),
            timeoutSeconds: try container.decode(Int.self, forKey: .timeoutSeconds),
            retry: try container.decode(RetryPolicy.self, forKey: .retry),
            marks: try container.decodeIfPresent([String].self, forKey: .marks) ?? [])
    }

    /// Problems that make this definition unusable, in words; empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(name) {
            problems.append("name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        if version.isEmpty || version.count > 64 { problems.append("version must be 1-64 characters") }
        if argv.isEmpty || argv[0].isEmpty { problems.append("argv must name a program") }
        if argv.contains(where: { $0.utf8.contains(0) }) { problems.append("argv must not contain NUL bytes") }
        if argv.count > 256 { problems.append("argv may have at most 256 entries") }
        if let workingDirectory, !workingDirectory.hasPrefix("/") {
            problems.append("workingDirectory must be an absolute path")
        }
        if !(1...BotDefinition.maximumTimeoutSeconds).contains(timeoutSeconds) {
            problems.append("timeoutSeconds must be between 1 and \(BotDefinition.maximumTimeoutSeconds)")
        }
        problems.append(contentsOf: retry.problems)
        if marks.count > 16 { problems.append("a bot may carry at most 16 marks") }
        if let mark = marks.first(where: { !Names.isValid($0) }) { problems.append("mark '\(mark)' is not a valid name") }
        return problems
    }

    /// One attempt may run for at most a week. The broker must let a delivery stay unacked
    /// that long (`consumer_timeout` in ops/rabbitmq.conf.template).
    public static let maximumTimeoutSeconds = 7 * 24 * 3600
}
