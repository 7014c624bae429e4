/// `PUT /v1/groups/{name}`: a runner group's settings, all of them (a setting left out goes back
/// to its default).
public struct GroupSettings: Codable, Sendable, Equatable {
    /// Jobs that may wait in the group (pending, queued or retrying) before `bounded` launches
    /// that find no slot free are rejected; nil: no bound.
    public var maxQueued: Int?
    /// The admission mode of a launch that names none, by its launch method.
    public var launchAdmission: LaunchAdmissionTable

    public init(maxQueued: Int? = nil, launchAdmission: LaunchAdmissionTable = LaunchAdmissionTable()) {
        self.maxQueued = maxQueued
        self.launchAdmission = launchAdmission
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxQueued = try container.decodeIfPresent(Int.self, forKey: .maxQueued)
        launchAdmission = try container.decodeIfPresent(LaunchAdmissionTable.self, forKey: .launchAdmission)
            ?? LaunchAdmissionTable()
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
    /// Every launch method with the admission mode the group gives it when the launch names none.
    public var launchAdmission: [LaunchMethod: AdmissionMode]
    /// Jobs waiting: pending, queued or retrying.
    public var waiting: Int
    public var running: Int
    /// Active workers and the slots they report (bounded by their served accounts' limits).
    public var workers: Int
    public var slots: Int
    /// Accounts that can take a UI bot (one each).
    public var uiSlots: Int

    public init(name: String, maxQueued: Int?, launchAdmission: [LaunchMethod: AdmissionMode], waiting: Int,
                running: Int, workers: Int, slots: Int, uiSlots: Int) {
        self.name = name
        self.maxQueued = maxQueued
        self.launchAdmission = launchAdmission
        self.waiting = waiting
        self.running = running
        self.workers = workers
        self.slots = slots
        self.uiSlots = uiSlots
    }
}
