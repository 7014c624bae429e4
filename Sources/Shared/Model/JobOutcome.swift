/// How one attempt of a job ended, as the worker saw it.
public struct JobOutcome: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        case succeeded
        /// The bot exited with a non-zero code or was killed by a signal.
        case failed
        /// The bot ran past its time limit and its process group was terminated.
        case timedOut
        /// The bot could not be started at all (missing program, bad working directory).
        case failedToStart
        /// An operator cancelled the job while it ran.
        case cancelled
        /// The bot declared a business exception (``JobOutcome/businessExceptionKey`` in its output
        /// file) and exited on its own: the job fails without another attempt.
        case businessException
    }

    public var result: Result
    public var exitCode: Int32?
    /// The signal that ended the bot, when one did.
    public var signal: Int32?
    /// What happened, in words.
    public var reason: String
    /// `KEY=VALUE` lines the bot wrote to `BOTYARD_OUTPUT`.
    public var outputs: [String: String]
    /// The end of the bot's combined stdout and stderr (at most ``maximumLogBytes``).
    public var log: String
    public var durationMilliseconds: Int

    public init(
        result: Result,
        exitCode: Int32? = nil,
        signal: Int32? = nil,
        reason: String,
        outputs: [String: String] = [:],
        log: String = "",
        durationMilliseconds: Int = 0
    ) {
        self.result = result
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.outputs = outputs
        self.log = log
        self.durationMilliseconds = durationMilliseconds
    }

    /// The output key with which a bot declares a business exception: `BUSINESS_EXCEPTION=<reason>`.
    public static let businessExceptionKey = "BUSINESS_EXCEPTION"

    /// How much of a bot's log travels back with its outcome.
    public static let maximumLogBytes = 256 * 1024
}
