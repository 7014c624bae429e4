import ArgumentParser
import Dispatcher
import Foundation
import Shared

/// `botyard-dispatcher create-token`: makes an API token straight in the store — the way to the
/// first admin token, before any exists to ask the API with.
struct CreateTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-token",
        abstract: "Make an API token in the dispatcher's store and print its secret (the first admin token).",
        discussion: """
            Prints the token's secret, once: keep it (e.g. in BOTYARD_TOKEN). Later tokens can be made \
            through the API (`botyard tokens create`) with an admin token. Works while the dispatcher runs.
            """)

    @OptionGroup var database: DatabaseOption

    @Option(help: "Who holds the token: shown in the audit log.")
    var name: String

    @Option(help: "admin, operator or viewer.")
    var role: String = Role.admin.rawValue

    @Option(help: "Write the secret to this file (mode 0600) instead of printing it.")
    var output: String?

    func validate() throws {
        guard Role(rawValue: role) != nil else { throw ValidationError("--role must be admin, operator or viewer") }
        let problems = NewAPIToken(name: name, role: .viewer).problems
        guard problems.isEmpty else { throw ValidationError("--name: \(problems.joined(separator: "; "))") }
    }

    func run() async throws {
        let created: CreatedAPIToken
        do {
            let store = try await BotyardStore.open(path: database.path)
            created = try await store.createAPIToken(NewAPIToken(name: name, role: Role(rawValue: role) ?? .admin))
        } catch {
            throw ValidationError("\(error)")
        }
        guard let output else {
            print(created.secret)
            return
        }
        guard FileManager.default.createFile(atPath: output, contents: Data((created.secret + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(output)")
        }
        print("token \(created.token.id) (\(name), \(role)) written to \(output)")
    }
}
