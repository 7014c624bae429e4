/// An account a worker serves: a user on the host that bots run under.
public struct AccountConfiguration: Sendable, Equatable {
    public var name: String
    /// Bots that may run on the account at once; nil: as many as the worker's slots.
    public var limit: Int?

    public init(name: String, limit: Int? = nil) {
        self.name = name
        self.limit = limit
    }

    /// Parses `name` or `name:limit` as given on the command line.
    public init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: self.init(name: argument)
        case 2:
            guard let limit = Int(parts[1]) else { return nil }
            self.init(name: String(parts[0]), limit: limit)
        default: return nil
        }
    }
}
