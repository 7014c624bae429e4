import Foundation
import Shared
import Synchronization

/// Broker users with Botyard's least privilege (``BrokerPermissions``) on one test virtual host,
/// set up as an operator would: the dispatcher's user, and a user per runner group that may use
/// only the hosts its workers were started on, with the group's job queues declared beforehand
/// (``BrokerDefinitions``). Made on first use; deleted with the virtual host.
///
/// The suite's dispatchers and workers log in as these users; tests themselves (inspecting queues,
/// publishing garbage, breaking connections) stay `guest`.
actor TestUsers {
    let virtualHost: String
    private let password = UUID().uuidString
    private var dispatcherMade = false
    /// Each group's hosts so far: a worker on a new host widens its group's permissions.
    private var groupHosts: [String: Set<String>] = [:]

    private init(virtualHost: String) {
        self.virtualHost = virtualHost
    }

    private static let registry = Mutex<[String: TestUsers]>([:])

    /// The users of a virtual host ``TestBroker/withVirtualHost(_:)`` made; nil for another one.
    static func of(_ url: AMQPURL) -> TestUsers? {
        registry.withLock { $0[url.virtualHost] }
    }

    static func register(virtualHost: String) -> TestUsers {
        let users = TestUsers(virtualHost: virtualHost)
        registry.withLock { $0[virtualHost] = users }
        return users
    }

    /// `url` as the dispatcher's user.
    func dispatcher(on url: AMQPURL) async throws -> AMQPURL {
        let name = "\(virtualHost).dispatcher"
        if !dispatcherMade {
            try await put(user: name, permissions: .dispatcher)
            dispatcherMade = true
        }
        return url.as(name, password: password)
    }

    /// `url` as the user of `group`'s workers, allowed `hosts` too.
    func worker(on url: AMQPURL, group: String, hosts: [String]) async throws -> AMQPURL {
        let name = "\(virtualHost).group.\(group)"
        let known = groupHosts[group]
        let all = (known ?? []).union(hosts)
        if known == nil {
            // The group's job queues, which its workers may consume but not declare.
            let definitions = BrokerDefinitions(virtualHost: virtualHost, grants: [], groups: [group])
            try await TestBroker.management(.post, "api/definitions",
                                            body: String(decoding: try JSONEncoder().encode(definitions), as: UTF8.self))
        }
        if all != known {
            try await put(user: name, permissions: .workers(group: group, hosts: all.sorted()))
            groupHosts[group] = all
        }
        return url.as(name, password: password)
    }

    /// Deletes every user made here, and forgets the virtual host.
    func deleteAll() async {
        _ = Self.registry.withLock { $0.removeValue(forKey: virtualHost) }
        if dispatcherMade { await TestBroker.deleteUser("\(virtualHost).dispatcher") }
        for group in groupHosts.keys { await TestBroker.deleteUser("\(virtualHost).group.\(group)") }
    }

    private func put(user name: String, permissions: BrokerPermissions) async throws {
        func json(_ object: [String: String]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        try await TestBroker.management(.put, "api/users/\(name)", body: try json(["password": password, "tags": ""]))
        try await TestBroker.management(.put, "api/permissions/\(virtualHost)/\(name)", body: try json([
            "configure": permissions.configure, "write": permissions.write, "read": permissions.read,
        ]))
        for topic in permissions.topics {
            try await TestBroker.management(.put, "api/topic-permissions/\(virtualHost)/\(name)", body: try json([
                "exchange": topic.exchange, "write": topic.write, "read": topic.read,
            ]))
        }
    }
}

extension AMQPURL {
    /// The same broker and virtual host, as another user.
    func `as`(_ user: String, password: String) -> AMQPURL {
        var copy = self
        copy.user = user
        copy.password = password
        return copy
    }
}
