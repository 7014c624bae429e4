/// A RabbitMQ definitions document (`rabbitmqctl import_definitions`, or the management API's
/// `POST /api/definitions`) for one Botyard virtual host: its exchanges, the dispatcher's queues,
/// each runner group's job queues (which a group's workers may consume but not declare), the
/// dispatcher's user and one user per group, with the permissions of ``BrokerPermissions``.
///
/// Users carry password hashes (``PasswordHash``), never passwords.
public struct BrokerDefinitions: Encodable, Sendable {
    public var users: [User] = []
    public var vhosts: [VirtualHost]
    public var permissions: [Permission] = []
    public var topicPermissions: [TopicPermission] = []
    public var exchanges: [Exchange]
    public var queues: [Queue] = []
    public var bindings: [Binding] = []

    /// A broker user and what it may do (a login to the broker, not a robot's account).
    public struct UserGrant: Sendable {
        public var name: String
        public var passwordHash: String
        public var permissions: BrokerPermissions

        public init(name: String, passwordHash: String, permissions: BrokerPermissions) {
            self.name = name
            self.passwordHash = passwordHash
            self.permissions = permissions
        }
    }

    /// - Parameter groups: the runner groups whose job queues the document declares.
    public init(virtualHost: String, grants: [UserGrant], groups: [String]) {
        vhosts = [VirtualHost(name: virtualHost)]
        exchanges = [(Topology.jobsExchange, "topic"), (Topology.retryExchange, "headers"),
                     (Topology.deadExchange, "fanout"), (Topology.eventsExchange, "topic"),
                     (Topology.controlExchange, "topic")]
            .map { Exchange(name: $0.0, vhost: virtualHost, type: $0.1) }
        func queue(_ name: String, _ arguments: AMQPTable, boundTo exchange: String, keys: [String]) {
            queues.append(Queue(name: name, vhost: virtualHost, arguments: arguments))
            bindings += keys.map {
                Binding(source: exchange, vhost: virtualHost, destination: name, routingKey: $0)
            }
        }
        typealias Arguments = TopologyDeclarer.Arguments
        queue(Topology.deadQueue, Arguments.parked, boundTo: Topology.deadExchange, keys: [""])
        queue(Topology.dispatcherDeadQueue, Arguments.parked, boundTo: Topology.deadExchange, keys: [""])
        queue(Topology.dispatcherEventsQueue, Arguments.reports, boundTo: Topology.eventsExchange,
              keys: ["job.*", WorkerHeartbeat.routingKey])
        queue(Topology.credentialRequestsQueue, Arguments.credentialRequests, boundTo: Topology.eventsExchange,
              keys: [CredentialRequest.routingKey])
        for group in groups {
            for lane in Topology.Lane.allCases {
                for priority in Priority.allCases {
                    queue(Topology.jobQueue(group: group, priority: priority, lane: lane), Arguments.jobs,
                          boundTo: Topology.jobsExchange,
                          keys: [Topology.jobRoutingKey(group: group, priority: priority, lane: lane)])
                }
            }
        }
        for grant in grants {
            users.append(User(name: grant.name, passwordHash: grant.passwordHash))
            let granted = grant.permissions
            permissions.append(Permission(user: grant.name, vhost: virtualHost, configure: granted.configure,
                                          write: granted.write, read: granted.read))
            topicPermissions += granted.topics.map {
                TopicPermission(user: grant.name, vhost: virtualHost, exchange: $0.exchange, write: $0.write,
                                read: $0.read)
            }
        }
    }

    /// Names of the broker users: `botyard-dispatcher`, and `botyard-group-<group>` for a group's workers.
    public static let dispatcherUser = "botyard-dispatcher"
    public static func groupUser(_ group: String) -> String { "botyard-group-\(group)" }

    public struct User: Encodable, Sendable {
        var name: String
        var passwordHash: String
        var hashingAlgorithm = "rabbit_password_hashing_sha256"
        var tags: [String] = []

        enum CodingKeys: String, CodingKey {
            case name, tags
            case passwordHash = "password_hash", hashingAlgorithm = "hashing_algorithm"
        }
    }

    public struct VirtualHost: Encodable, Sendable {
        var name: String
    }

    public struct Permission: Encodable, Sendable {
        var user, vhost, configure, write, read: String
    }

    public struct TopicPermission: Encodable, Sendable {
        var user, vhost, exchange, write, read: String
    }

    public struct Exchange: Encodable, Sendable {
        var name, vhost, type: String
        var durable = true
        var autoDelete = false
        var `internal` = false
        var arguments: [String: String] = [:]

        enum CodingKeys: String, CodingKey {
            case name, vhost, type, durable, `internal`, arguments
            case autoDelete = "auto_delete"
        }
    }

    public struct Queue: Encodable, Sendable {
        var name, vhost: String
        var durable = true
        var autoDelete = false
        var arguments: AMQPTable

        enum CodingKeys: String, CodingKey {
            case name, vhost, durable, arguments
            case autoDelete = "auto_delete"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(vhost, forKey: .vhost)
            try container.encode(durable, forKey: .durable)
            try container.encode(autoDelete, forKey: .autoDelete)
            try container.encode(arguments.mapValues(DefinitionValue.init), forKey: .arguments)
        }
    }

    public struct Binding: Encodable, Sendable {
        var source, vhost, destination: String
        var destinationType = "queue"
        var routingKey: String
        var arguments: [String: String] = [:]

        enum CodingKeys: String, CodingKey {
            case source, vhost, destination, arguments
            case destinationType = "destination_type", routingKey = "routing_key"
        }
    }

    /// A queue argument as JSON.
    private struct DefinitionValue: Encodable {
        let value: AMQPFieldValue

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch value {
            case .string(let string): try container.encode(string)
            case .int(let int): try container.encode(int)
            case .bool(let bool): try container.encode(bool)
            case .table(let table): try container.encode(table.mapValues(DefinitionValue.init))
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case users, vhosts, permissions, exchanges, queues, bindings
        case topicPermissions = "topic_permissions"
    }
}
