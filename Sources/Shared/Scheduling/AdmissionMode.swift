/// How a launch is taken in when no slot is free (Kofax's modes).
public enum AdmissionMode: String, Codable, Sendable, CaseIterable {
    /// Wait in the group's queue until a slot frees.
    case queue
    /// Wait, unless no slot is free and the group already has its `maxQueued` jobs waiting: then
    /// `rejected`. Without a `maxQueued` it always waits.
    case bounded
    /// Run now or not at all: `rejected` unless the group's workers have a slot free now.
    case sync
}
