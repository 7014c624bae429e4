/// How a launch is taken in when no slot is free (Kofax's modes).
public enum AdmissionMode: String, Codable, Sendable, CaseIterable {
    /// Wait in the group's queue until a slot frees (the default).
    case queue
    /// Wait, unless the group already has its `maxQueued` jobs waiting: then `rejected`.
    case bounded
    /// Run now or not at all: `rejected` unless the group's workers have a slot free now.
    case sync
}

/// `PUT /v1/groups/{name}`: a runner group's settings.
public struct GroupSettings: Codable, Sendable, Equatable {
    /// Jobs that may wait in the group (pending, queued or retrying) before `bounded` launches
    /// are rejected; nil: no bound.
    public var maxQueued: Int?

    public init(maxQueued: Int? = nil) {
        self.maxQueued = maxQueued
    }

    public var problems: [String] {
        if let maxQueued, !(0...1_000_000).contains(maxQueued) { return ["maxQueued must be between 0 and 1000000"] }
        return []
    }
}

/// A runner group as `GET /v1/groups` shows it: its settings, its jobs and its live capacity.
public struct GroupStatus: Codable, Sendable, Equatable {
    public var name: String
    public var maxQueued: Int?
    /// Jobs waiting: pending, queued or retrying.
    public var waiting: Int
    public var running: Int
    /// Active workers and the slots they report (bounded by their served accounts' limits).
    public var workers: Int
    public var slots: Int
    /// Accounts that can take a UI bot (one each).
    public var uiSlots: Int

    public init(name: String, maxQueued: Int?, waiting: Int, running: Int, workers: Int, slots: Int, uiSlots: Int) {
        self.name = name
        self.maxQueued = maxQueued
        self.waiting = waiting
        self.running = running
        self.workers = workers
        self.slots = slots
        self.uiSlots = uiSlots
    }
}
