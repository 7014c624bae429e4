/// `POST /v1/bots`: a bot's definition, with defaults for what is left out.
public struct CreateBotRequest: Codable, Sendable {
    public var name: String
    public var version: String?
    public var argv: [String]
    public var workingDirectory: String?
    public var needsUI: Bool?
    public var timeoutSeconds: Int?
    public var retry: RetryPolicy?
    public var marks: [String]?
    /// Seconds between the stop file and SIGTERM on a polite stop; ``BotDefinition/defaultStopGraceSeconds`` when left out.
    public var stopGraceSeconds: Int?
    /// The account's reset after a stopped or crashed run, as an argv.
    public var cleanup: [String]?

    public init(name: String, version: String? = nil, argv: [String], workingDirectory: String? = nil,
                needsUI: Bool? = nil, timeoutSeconds: Int? = nil, retry: RetryPolicy? = nil, marks: [String]? = nil,
                stopGraceSeconds: Int? = nil, cleanup: [String]? = nil) {
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

    public var definition: BotDefinition {
        let defaults = BotDefinition(name: name, argv: argv)
        return BotDefinition(
            name: name, version: version ?? defaults.version, argv: argv, workingDirectory: workingDirectory,
            needsUI: needsUI ?? defaults.needsUI, timeoutSeconds: timeoutSeconds ?? defaults.timeoutSeconds,
            retry: retry ?? defaults.retry, marks: marks ?? defaults.marks,
            stopGraceSeconds: stopGraceSeconds ?? defaults.stopGraceSeconds, cleanup: cleanup)
    }
}
