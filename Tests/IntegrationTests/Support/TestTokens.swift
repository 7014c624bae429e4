import Foundation
import Shared

@testable import Dispatcher

extension BotyardStore {
    /// A new API token of `role` in this store (its secret), as `botyard-dispatcher create-token` makes one.
    func testToken(_ role: Role = .admin) async throws -> String {
        let name = "test \(role.rawValue) \(UUID().uuidString.prefix(8))"
        return try await createAPIToken(NewAPIToken(name: name, role: role)).secret
    }
}
