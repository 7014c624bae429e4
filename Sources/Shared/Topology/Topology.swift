/// The names of Botyard's exchanges and queues, in one place (documented in README).
public enum Topology {
    /// Job queues come in two lanes, so that a consumer with prefetch 1 per account can take
    /// the bots that need the account's GUI session.
    public enum Lane: String, CaseIterable, Sendable {
        case background
        case ui

        public init(needsUI: Bool) { self = needsUI ? .ui : .background }

        var suffix: String { self == .ui ? ".ui" : "" }
    }

    /// Topic exchange for jobs; routing key `<group>.<priority>`, or `<group>.<priority>.ui` for
    /// bots that need the account's GUI session.
    public static let jobsExchange = "botyard.jobs"
    /// Headers exchange for delayed retries; header ``retryDelayHeader`` picks the TTL queue,
    /// the routing key stays the job's own so that dead-lettering brings it back to its queue.
    public static let retryExchange = "botyard.retry"
    /// Fanout exchange for parked jobs.
    public static let deadExchange = "botyard.dead"
    public static let deadQueue = "botyard.dead"
    /// The dispatcher's copy of everything parked, so that it learns of jobs the broker or a
    /// worker parked on their own.
    public static let dispatcherDeadQueue = "botyard.dead.dispatcher"
    /// Topic exchange for worker reports; routing key `job.<kind>`.
    public static let eventsExchange = "botyard.events"
    public static let dispatcherEventsQueue = "botyard.events.dispatcher"
    /// Workers' ``CredentialRequest``s (routing key `credential.request` on `botyard.events`),
    /// answered by the dispatcher.
    public static let credentialRequestsQueue = "botyard.credentials"
    /// How long a credential request waits in its queue; a worker asks again after it.
    public static let credentialRequestTTLMilliseconds = 30_000
    /// Topic exchange for orders to workers; routing key `group.<group>` or `worker.<id>`.
    public static let controlExchange = "botyard.control"

    public static let retryDelayHeader = "botyard-retry-delay-ms"
    /// Header set on a message parked in `botyard.dead`: why it is there.
    public static let deadReasonHeader = "botyard-dead-reason"
    /// Header set on a message parked in `botyard.dead` by Botyard: `dispatcher` or `worker`.
    public static let parkedByHeader = "botyard-parked-by"

    /// Deliveries of one message after which the broker parks it in `botyard.dead` on its own:
    /// the last guard against a message that crashes every worker that takes it.
    public static let deliveryLimit = 20

    public static func jobRoutingKey(group: String, priority: Priority, lane: Lane = .background) -> String {
        "\(group).\(priority.rawValue)\(lane.suffix)"
    }

    public static func jobQueue(group: String, priority: Priority, lane: Lane = .background) -> String {
        "\(jobsExchange).\(jobRoutingKey(group: group, priority: priority, lane: lane))"
    }

    /// Launches from the robot queue for one account on one host, in the order they were
    /// dispatched; consumed by the worker holding the account's lease.
    public static func accountQueue(host: String, account: String) -> String {
        "botyard.\(accountRoutingKey(host: host, account: account))"
    }

    /// Routing key of ``accountQueue(host:account:)`` in `botyard.jobs`; never a group's key, since
    /// `account` is not a valid group name.
    public static func accountRoutingKey(host: String, account: String) -> String {
        "\(accountKeyPrefix)\(host).\(account)"
    }

    /// The account queue a routing key of ``accountRoutingKey(host:account:)`` goes to, or nil
    /// for a group's key.
    public static func accountQueue(routingKey: String) -> String? {
        routingKey.hasPrefix(accountKeyPrefix) ? "botyard.\(routingKey)" : nil
    }

    static let accountKeyPrefix = "account."

    /// The exclusive queue whose holder serves an account: the broker lets one connection hold it.
    public static func leaseQueue(host: String, account: String) -> String {
        "botyard.lease.\(host).\(account)"
    }

    public static func retryQueue(delayMilliseconds: Int) -> String {
        "\(retryExchange).\(delayMilliseconds)ms"
    }

    /// A worker's own queue of orders; named after its group too, so that a group's broker user
    /// may declare its workers' queues and no other group's (``BrokerPermissions``).
    public static func controlQueue(group: String, workerID: String) -> String {
        "\(controlExchange).\(group).\(workerID)"
    }

    public static func controlRoutingKey(group: String) -> String { "group.\(group)" }
    public static func controlRoutingKey(workerID: String) -> String { "worker.\(workerID)" }
}
