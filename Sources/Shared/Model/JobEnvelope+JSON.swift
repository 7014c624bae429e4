import Foundation

/// A job message is read by a worker for every job it takes: by hand (``JSONReadable``).
extension JobEnvelope: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(jobID: try object.decode("jobID"), attempt: try object.decode("attempt"),
                  maxAttempts: try object.decode("maxAttempts"), bot: try object.decode("bot"),
                  group: try object.decode("group"), priority: try object.decode("priority"),
                  environment: try object.decode("environment"), inputs: try object.decode("inputs"),
                  account: try object.decodeIfPresent("account"), host: try object.decodeIfPresent("host"),
                  timeoutSeconds: try object.decode("timeoutSeconds"), submittedAt: try object.decode("submittedAt"),
                  variables: try object.decodeIfPresent("variables"), jobToken: try object.decodeIfPresent("jobToken"))
    }
}

extension Priority: JSONReadable {}

extension BotDefinition: JSONReadable {
    /// As `init(from:)`: definitions stored before bots had marks, a stop grace or a cleanup read as
    /// having none, the default grace and none.
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(name: try object.decode("name"), version: try object.decode("version"),
                  argv: try object.decode("argv"), workingDirectory: try object.decodeIfPresent("workingDirectory"),
                  needsUI: try object.decode("needsUI"), timeoutSeconds: try object.decode("timeoutSeconds"),
                  retry: try object.decode("retry"), marks: try object.decodeIfPresent("marks") ?? [],
                  stopGraceSeconds: try object.decodeIfPresent("stopGraceSeconds") ?? Self.defaultStopGraceSeconds,
                  cleanup: try object.decodeIfPresent("cleanup"))
    }
}

extension RetryPolicy: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(maxAttempts: try object.decode("maxAttempts"), backoff: try object.decode("backoff"))
    }
}

extension RetryPolicy.Backoff: JSONReadable {
    /// As `init(from:)`: an exponential backoff without a jitter has 0.2.
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        switch try object.decode("kind", as: String.self) {
        case "fixed":
            self = .fixed(milliseconds: try object.decode("milliseconds"))
        case "exponential":
            self = .exponential(baseMilliseconds: try object.decode("baseMilliseconds"),
                                maxMilliseconds: try object.decode("maxMilliseconds"),
                                jitter: try object.decodeIfPresent("jitter") ?? 0.2)
        default:
            throw JSONMismatch()
        }
    }
}
