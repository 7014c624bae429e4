import Foundation

/// How a targeted launch that cannot start now waits in the robot queue.
public struct RobotQueuePolicy: Codable, Sendable, Equatable {
    /// Seconds between two tries at least.
    public var waitSeconds: Int
    /// Tries in all (the one at launch included); after the last the job is `dead`.
    public var maxAttempts: Int

    public init(waitSeconds: Int = 30, maxAttempts: Int = 10) {
        self.waitSeconds = waitSeconds
        self.maxAttempts = maxAttempts
    }

    public var problems: [String] {
        var problems: [String] = []
        if !(0...86_400).contains(waitSeconds) { problems.append("robotQueue.waitSeconds must be between 0 and 86400") }
        if !(1...1_000).contains(maxAttempts) { problems.append("robotQueue.maxAttempts must be between 1 and 1000") }
        return problems
    }
}

/// A launch waiting in the robot queue, as `GET /v1/robot-queue` shows it.
public struct RobotQueueEntry: Codable, Sendable, Equatable {
    public var jobID: Int64
    public var bot: String
    public var botVersion: String
    public var needsUI: Bool
    public var addedAt: Date
    public var launchMethod: LaunchMethod
    public var initiator: String
    /// The host asked for; nil: any host serving the account.
    public var host: String?
    public var account: String
    /// Tries so far, the one at launch included.
    public var attempts: Int
    public var maxAttempts: Int
    /// The next try happens on an event (a run finished, credentials changed, a host became
    /// active) at this time or later.
    public var notBefore: Date
    /// Why the last try could not start it, in words.
    public var reason: String

    public init(jobID: Int64, bot: String, botVersion: String, needsUI: Bool, addedAt: Date, launchMethod: LaunchMethod,
                initiator: String, host: String?, account: String, attempts: Int, maxAttempts: Int, notBefore: Date,
                reason: String) {
        self.jobID = jobID
        self.bot = bot
        self.botVersion = botVersion
        self.needsUI = needsUI
        self.addedAt = addedAt
        self.launchMethod = launchMethod
        self.initiator = initiator
        self.host = host
        self.account = account
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.notBefore = notBefore
        self.reason = reason
    }
}

/// The credential a UI bot logs on with: `PUT /v1/credentials/{host}/{account}`. Its password is
/// never shown by the API, written to logs or put in a description.
public struct AccountCredential: Codable, Sendable, Equatable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "AccountCredential(username: \(username), password: ***)" }

    public var problems: [String] {
        var problems: [String] = []
        if username.isEmpty || username.count > 256 { problems.append("username must be 1-256 characters") }
        if password.count > 1024 { problems.append("password may have at most 1024 characters") }
        if (username + password).utf8.contains(0) { problems.append("credentials must not contain NUL bytes") }
        return problems
    }
}

/// A stored credential as `GET /v1/credentials` lists it: never the password.
public struct CredentialSummary: Codable, Sendable, Equatable {
    public var host: String
    public var account: String
    public var username: String
    public var updatedAt: Date

    public init(host: String, account: String, username: String, updatedAt: Date) {
        self.host = host
        self.account = account
        self.username = username
        self.updatedAt = updatedAt
    }
}

/// `202 Accepted` answer to `POST /v1/hosts/{host}/accounts/{account}/clear-hold`: the workers told to
/// clear the hold; their next heartbeats show it cleared.
public struct HoldCleared: Codable, Sendable, Equatable {
    public var host: String
    public var account: String
    public var workers: [String]

    public init(host: String, account: String, workers: [String]) {
        self.host = host
        self.account = account
        self.workers = workers
    }
}
