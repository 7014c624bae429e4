/// What one broker user may do in Botyard's virtual host: RabbitMQ's configure, write and read
/// permissions (regular expressions over exchange and queue names) and topic permissions
/// (over routing keys, per topic exchange).
///
/// Two kinds of users: the dispatcher, and one per runner group whose workers may consume only
/// their group's and their hosts' accounts' queues, declare only their own control and lease
/// queues, and publish only reports. Built from ``Topology`` so that the names cannot drift.
public struct BrokerPermissions: Sendable, Equatable {
    public var configure: String
    public var write: String
    public var read: String
    public var topics: [TopicPermission]

    /// Routing keys a user may publish (`write`) to, or bind (`read`) with, on one topic exchange.
    public struct TopicPermission: Sendable, Equatable {
        public var exchange: String
        public var write: String
        public var read: String
    }

    /// The dispatcher declares the whole topology, publishes jobs, retries, parked jobs and
    /// orders, and consumes the reports and its copy of the parked jobs. It reads what it declares:
    /// the broker asks read permission on a queue declared with a dead-letter exchange.
    public static let dispatcher: BrokerPermissions = {
        let exchanges = [Topology.jobsExchange, Topology.retryExchange, Topology.deadExchange,
                         Topology.eventsExchange, Topology.controlExchange]
        let ownQueues = [Topology.deadQueue, Topology.dispatcherDeadQueue, Topology.dispatcherEventsQueue,
                         Topology.credentialRequestsQueue]
        let declared = anyOf(exchanges.map(escaped) + ownQueues.map(escaped) + [
            jobQueues(group: "[^.]+"),
            escaped("botyard.account.") + ".+",
            escaped(Topology.retryExchange + ".") + "[0-9]+ms",
        ])
        return BrokerPermissions(configure: declared, write: declared, read: declared, topics: [])
    }()

    /// The workers of `group`, running on `hosts`: they consume the group's job queues and the
    /// queues of their hosts' accounts, hold their hosts' account leases, have their own control
    /// queue, and publish reports (and parked messages).
    public static func workers(group: String, hosts: [String]) -> BrokerPermissions {
        let hostNames = "(" + hosts.map(escaped).joined(separator: "|") + ")"
        let accountQueues = escaped("botyard.account.") + hostNames + "\\.[^.]+"
        let leaseQueues = escaped("botyard.lease.") + hostNames + "\\.[^.]+"
        let controlQueues = escaped(Topology.controlQueue(group: group, workerID: "")) + ".+"
        let reportKeys = anyOf([escaped("job.") + "[A-Za-z]+", escaped(WorkerHeartbeat.routingKey),
                                escaped(CredentialRequest.routingKey)])
        return BrokerPermissions(
            configure: anyOf([accountQueues, leaseQueues, controlQueues]),
            write: anyOf([accountQueues, controlQueues, escaped(Topology.eventsExchange),
                          escaped(Topology.deadExchange)]),
            read: anyOf([jobQueues(group: escaped(group)), accountQueues, controlQueues,
                         escaped(Topology.jobsExchange), escaped(Topology.controlExchange)]),
            topics: [
                TopicPermission(exchange: Topology.jobsExchange, write: "^$", read: anyOf([
                    escaped(group + ".") + priorities + "(\\.ui)?",
                    escaped("account.") + hostNames + "\\.[^.]+",
                ])),
                TopicPermission(exchange: Topology.controlExchange, write: "^$", read: anyOf([
                    escaped(Topology.controlRoutingKey(group: group)),
                    escaped(Topology.controlRoutingKey(workerID: "")) + ".+",
                ])),
                TopicPermission(exchange: Topology.eventsExchange, write: reportKeys, read: "^$"),
            ])
    }

    private static let priorities = "(" + Priority.allCases.map(\.rawValue).joined(separator: "|") + ")"

    private static func jobQueues(group: String) -> String {
        escaped(Topology.jobsExchange + ".") + group + "\\." + priorities + "(\\.ui)?"
    }

    /// One whole name out of `patterns`.
    private static func anyOf(_ patterns: [String]) -> String {
        "^(" + patterns.joined(separator: "|") + ")$"
    }

    /// `name` matched literally.
    static func escaped(_ name: String) -> String {
        var pattern = ""
        for character in name {
            if "\\^$.|?*+()[]{}".contains(character) { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern
    }
}
