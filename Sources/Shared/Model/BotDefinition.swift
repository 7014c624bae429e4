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
    /// Seconds a bot asked to stop politely (cancel, pipeline cancel, worker shutdown) has to finish its
    /// step and exit after its stop file appears, before SIGTERM.
    public var stopGraceSeconds: Int
    /// The account's reset after a run of this bot was stopped or crashed (timeout, kill, cancel,
    /// its worker lost): an argv, run before the account takes its next job.
    public var cleanup: [String]?

    public init(
        name: String,
        version: String = "1",
        argv: [String],
        workingDirectory: String? = nil,
        needsUI: Bool = false,
        timeoutSeconds: Int = 3600,
        retry: RetryPolicy = .init(),
        marks: [String] = [],
        stopGraceSeconds: Int = BotDefinition.defaultStopGraceSeconds,
        cleanup: [String]? = nil
    ) {
        self.name = name
        self.version = version
        self.argv = argv
        self.workingDirectory = workingDirectory
        self.needsUI = needsUI
        self.timeoutSeconds = timeoutSeconds
        self.retry = retry
        self.marks = marks
        self.stopGraceSeconds = stopGraceSeconds
        self.cleanup = cleanup
    }

    /// Definitions stored before bots had marks, a stop grace or a cleanup read as having none, the
    /// default grace and none.
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
            marks: try container.decodeIfPresent([String].self, forKey: .marks) ?? [],
            stopGraceSeconds: try container.decodeIfPresent(Int.self, forKey: .stopGraceSeconds)
                ?? Self.defaultStopGraceSeconds,
            cleanup: try container.decodeIfPresent([String].self, forKey: .cleanup))
    }

    /// Problems that make this definition unusable, in words; empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(name) {
            problems.append("name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        if version.isEmpty || version.count > 64 { problems.append("version must be 1-64 characters") }
        problems.append(contentsOf: Self.argvProblems(argv, named: "argv"))
        if let cleanup { problems.append(contentsOf: Self.argvProblems(cleanup, named: "cleanup")) }
        if !(0...BotDefinition.maximumStopGraceSeconds).contains(stopGraceSeconds) {
            problems.append("stopGraceSeconds must be between 0 and \(BotDefinition.maximumStopGraceSeconds)")
        }
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

    /// What is wrong with a program and its arguments (`argv`, `cleanup`), in words.
    public static func argvProblems(_ argv: [String], named name: String) -> [String] {
        var problems: [String] = []
        if argv.isEmpty || argv[0].isEmpty { problems.append("\(name) must name a program") }
        if argv.contains(where: { $0.utf8.contains(0) }) { problems.append("\(name) must not contain NUL bytes") }
        if argv.count > 256 { problems.append("\(name) may have at most 256 entries") }
        return problems
    }

    /// A bot asked to stop politely has 10 s to finish its step unless its definition says otherwise.
    public static let defaultStopGraceSeconds = 10
    public static let maximumStopGraceSeconds = 3600

    /// One attempt may run for at most a week. The broker must let a delivery stay unacked
    /// that long (`consumer_timeout` in ops/rabbitmq.conf.template).
    public static let maximumTimeoutSeconds = 7 * 24 * 3600
}
