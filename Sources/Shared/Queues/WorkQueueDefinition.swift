/// A work queue: business items (invoices, claims, orders) that bots claim one at a time.
public struct WorkQueueDefinition: Codable, Sendable, Equatable {
    public var name: String
    /// How often an item whose processing failed for a system reason (or whose lease expired)
    /// is offered again before it is given up.
    public var maxRetries: Int
    /// How long a claim holds an item before it goes back to `new`, unless extended.
    public var leaseSeconds: Int
    /// Whether two items of the queue may share a reference (`false`: the second is refused).
    public var uniqueReferences: Bool

    public init(name: String, maxRetries: Int = 1, leaseSeconds: Int = 300, uniqueReferences: Bool = false) {
        self.name = name
        self.maxRetries = maxRetries
        self.leaseSeconds = leaseSeconds
        self.uniqueReferences = uniqueReferences
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = WorkQueueDefinition(name: "")
        self.init(
            name: try container.decode(String.self, forKey: .name),
            maxRetries: try container.decodeIfPresent(Int.self, forKey: .maxRetries) ?? defaults.maxRetries,
            leaseSeconds: try container.decodeIfPresent(Int.self, forKey: .leaseSeconds) ?? defaults.leaseSeconds,
            uniqueReferences: try container.decodeIfPresent(Bool.self, forKey: .uniqueReferences)
                ?? defaults.uniqueReferences)
    }

    public static let maximumRetries = 50
    public static let maximumLeaseSeconds = 24 * 3600

    /// Problems that make this definition unusable, in words; empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !Names.isValid(name) { problems.append("name must be a valid name") }
        if !(0...Self.maximumRetries).contains(maxRetries) {
            problems.append("maxRetries must be between 0 and \(Self.maximumRetries)")
        }
        if !(1...Self.maximumLeaseSeconds).contains(leaseSeconds) {
            problems.append("leaseSeconds must be between 1 and \(Self.maximumLeaseSeconds)")
        }
        return problems
    }
}
