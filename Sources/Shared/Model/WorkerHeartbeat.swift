import Foundation

/// A worker's sign of life on `botyard.events` (routing key `worker.heartbeat`): who it is, what
/// it can run and what it runs now.
public struct WorkerHeartbeat: Codable, Sendable, Equatable {
    public var workerID: String
    public var group: String
    public var host: String
    public var accounts: [AccountStatus]
    /// Effective slots: the smaller of max concurrent and licensed slots.
    public var slots: Int
    public var running: Int
    /// Seconds until the next heartbeat; a worker silent for three of them is lost.
    public var intervalSeconds: Double
    /// The worker is shutting down and takes no new jobs.
    public var stopping: Bool
    public var at: Date

    public init(workerID: String, group: String, host: String, accounts: [AccountStatus], slots: Int, running: Int,
                intervalSeconds: Double, stopping: Bool = false, at: Date = Date()) {
        self.workerID = workerID
        self.group = group
        self.host = host
        self.accounts = accounts
        self.slots = slots
        self.running = running
        self.intervalSeconds = intervalSeconds
        self.stopping = stopping
        self.at = at
    }

    public static let routingKey = "worker.heartbeat"
}

/// A worker as `GET /v1/workers` shows it.
public struct WorkerStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case active
        case stopping
        /// Silent for three heartbeat intervals: crashed, cut off, or stopped.
        case lost
    }

    public var workerID: String
    public var group: String
    public var host: String
    public var accounts: [AccountStatus]
    public var slots: Int
    public var running: Int
    public var state: State
    public var firstSeen: Date
    public var lastSeen: Date

    public init(workerID: String, group: String, host: String, accounts: [AccountStatus], slots: Int, running: Int,
                state: State, firstSeen: Date, lastSeen: Date) {
        self.workerID = workerID
        self.group = group
        self.host = host
        self.accounts = accounts
        self.slots = slots
        self.running = running
        self.state = state
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}
