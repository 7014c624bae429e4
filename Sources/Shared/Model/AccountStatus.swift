/// One account of a worker, as its heartbeats report it.
public struct AccountStatus: Codable, Sendable, Equatable {
    public var name: String
    /// Bots that may run on the account at once.
    public var limit: Int
    public var running: Int
    /// A bot that needs the account's GUI session runs now.
    public var uiRunning: Bool
    /// The worker holds the account's lease; false while it stands by for another process.
    public var served: Bool
    /// Why the account takes no jobs until an operator clears it (`cleanup failed: …`); nil when it takes them.
    public var hold: String?

    public init(name: String, limit: Int, running: Int = 0, uiRunning: Bool = false, served: Bool = true,
                hold: String? = nil) {
        self.name = name
        self.limit = limit
        self.running = running
        self.uiRunning = uiRunning
        self.served = served
        self.hold = hold
    }
}
