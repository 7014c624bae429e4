import Foundation
import Shared

extension TestBroker {
    /// Creates broker user `name` with `permissions` in `vhost`, through the management API; returns
    /// the URL that logs in as it. Users are broker-wide: name them after the test's vhost.
    static func createUser(_ name: String, permissions: BrokerPermissions, in url: AMQPURL) async throws -> AMQPURL {
        let password = UUID.random().uuidString
        try await management(.put, "api/users/\(name)", body: try json(["password": password, "tags": ""]))
        try await management(.put, "api/permissions/\(url.virtualHost)/\(name)", body: try json([
            "configure": permissions.configure, "write": permissions.write, "read": permissions.read,
        ]))
        for topic in permissions.topics {
            try await management(.put, "api/topic-permissions/\(url.virtualHost)/\(name)", body: try json([
                "exchange": topic.exchange, "write": topic.write, "read": topic.read,
            ]))
        }
        var userURL = url
        userURL.user = name
        userURL.password = password
        return userURL
    }

    static func deleteUser(_ name: String) async {
        _ = try? await management(.delete, "api/users/\(name)")
    }

    private static func json(_ object: [String: String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }
}
