import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

/// The OpenAPI document (`Sources/Dispatcher/Resources/openapi.json`, served at `/v1/openapi.json`)
/// held to the router: the same routes, and each route's role as the server enforces it.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    /// One documented operation: method, path (`{param}` style) and `x-botyard-role`.
    struct Operation: Hashable, CustomStringConvertible {
        var method: String
        var path: String
        var role: String

        var description: String { "\(method) \(path) (\(role))" }

        /// The path with its parameters filled: ids with 1, names with `x`.
        var samplePath: String {
            path.replacing(/\{([^}]+)\}/) { $0.1 == "id" ? "1" : "x" }
        }
    }

    static let methods = ["get", "put", "post", "delete", "patch", "head"]

    /// The document as the dispatcher serves it, and its operations.
    func servedDocument(_ client: APIClient) async throws -> (document: [String: Any], operations: [Operation]) {
        let response = try await client.send(.get, "/v1/openapi.json", token: nil)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        let parsed = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
        let document = try #require(parsed as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations: [Operation] = []
        for (path, item) in paths {
            for method in Self.methods {
                guard let operation = item[method] as? [String: Any] else { continue }
                let role = try #require(operation["x-botyard-role"] as? String,
                                        "\(method) \(path) has no x-botyard-role")
                operations.append(Operation(method: method.uppercased(), path: path, role: role))
            }
        }
        return (document, operations)
    }

    /// The router on a fresh store, with an admin's client and the routes it registered (`GET /v1/jobs/{id}`).
    func withRouter(_ body: @escaping @Sendable (APIClient, BotyardStore, Set<String>) async throws -> Void)
        async throws
    {
        try await withTemporaryStore { store, _ in
            let router = buildRouter(store: store, robotQueueSignal: WakeSignal())
            let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
            try await Application(router: router).test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()), store, registered)
            }
        }
    }

    @Test("is OpenAPI 3.1, served without a token, and names every route the router has and no other")
    func sameRoutes() async throws {
        try await withRouter { client, _, registered in
            let (document, operations) = try await servedDocument(client)
            #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
            let documented = Set(operations.map { "\($0.method) \($0.path)" })
            #expect(registered.subtracting(documented).sorted() == [], "routes the document lacks")
            #expect(documented.subtracting(registered).sorted() == [], "documented routes the router lacks")
            #expect(registered.count > 80)
        }
    }

    /// Every documented operation called with no token and with each role's token: below its
    /// `x-botyard-role` it is refused (401 without a token, 403 with a lesser role), at or above
    /// it gets past access control (whatever the empty request then earns).
    @Test("each role against each route: refused below the role the document states, let through at or above it")
    func rolesAsDocumented() async throws {
        try await withRouter { admin, store, _ in
            let operations = try await servedDocument(admin).operations
            var tokens: [Role: String] = [:]
            for role in Role.allCases { tokens[role] = try await store.testToken(role) }
            let accessCodes: Set<String> = ["unauthenticated", "invalid_token", "forbidden"]
            for operation in operations.sorted(by: { $0.description < $1.description }) {
                let method = HTTPRequest.Method(rawValue: operation.method)!
                let required = Role(rawValue: operation.role)
                #expect(required != nil || operation.role == "open", "\(operation): unknown role")
                let anonymous = try await admin.send(method, operation.samplePath, token: nil)
                if required == nil {
                    #expect(anonymous.status != .unauthorized && anonymous.status != .forbidden, "\(operation)")
                } else {
                    #expect(anonymous.status == .unauthorized, "\(operation) without a token")
                }
                for role in Role.allCases {
                    let response = try await admin.send(method, operation.samplePath, token: tokens[role])
                    let code = (try? response.errorCode()) ?? ""
                    if let required, !role.allows(required) {
                        #expect(response.status == .forbidden && code == "forbidden", "\(operation) as \(role)")
                    } else {
                        #expect(!accessCodes.contains(code), "\(operation) as \(role): \(response.status) \(code)")
                    }
                }
            }
        }
    }
}
