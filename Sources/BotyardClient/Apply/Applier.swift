import Foundation

/// Carries out `botyard apply` against a dispatcher: reads what exists, and sends the plan's
/// changes one by one, in order.
public struct Applier: Sendable {
    let client: DispatcherClient

    public init(client: DispatcherClient) { self.client = client }

    /// Every kind's resources on the dispatcher, by name.
    public func currentState() async throws -> [ResourceKind: [String: ResourceState]] {
        var state: [ResourceKind: [String: ResourceState]] = [:]
        for kind in ResourceKind.allCases {
            state[kind] = try kind.currentState(from: try await client.send("GET", kind.listPath, body: nil))
        }
        return state
    }

    /// Sends one change; nothing for a step that changes nothing.
    public func apply(_ change: PlannedChange) async throws {
        switch change.action {
        case .create, .update:
            guard let resource = change.resource else { return }
            let request = change.kind.writeRequest(name: change.name)
            _ = try await client.send(request.method, request.path, body: resource.body)
        case .delete:
            guard let path = change.kind.deletePath(name: change.name) else { return }
            _ = try await client.send("DELETE", path, body: nil)
        case .unchanged, .keep:
            return
        }
    }
}
