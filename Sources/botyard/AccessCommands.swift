import ArgumentParser
import BotyardClient
import Foundation
import Shared

extension Role: ExpressibleByArgument {}

/// `botyard tokens create|list|revoke`: API tokens (admin).
struct TokenCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Make, list and revoke API tokens (admin).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token and print its secret, once.")

        @OptionGroup var connection: Connection
        @Option(help: "Who holds it: shown in the audit log.") var name: String
        @Option(help: "admin, operator or viewer.") var role: Role

        func run() async throws {
            let created = try await connection.client.post("/v1/tokens", NewAPIToken(name: name, role: role),
                                                           as: CreatedAPIToken.self)
            try connection.show(created) { print(created.secret) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens, live and revoked (never their secrets).")

        @OptionGroup var connection: Connection

        func run() async throws {
            let list = try await connection.client.get("/v1/tokens", as: APITokenList.self)
            try connection.show(list) { print(Self.table(list.tokens).rendered) }
        }

        static func table(_ tokens: [APIToken]) -> Table {
            var table = Table(headers: ["ID", "NAME", "ROLE", "CREATED", "REVOKED"])
            for token in tokens {
                table.rows.append([token.id, token.name, token.role.rawValue, Timestamp.format(token.createdAt),
                                   token.revokedAt.map(Timestamp.format) ?? "-"])
            }
            return table
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: refused from its next request on.")

        @OptionGroup var connection: Connection
        @Argument(help: "The token's id (`botyard tokens list`).") var id: String

        func run() async throws {
            try await connection.client.delete("/v1/tokens/\(id)")
            try connection.say("token \(id) revoked")
        }
    }
}

/// `botyard audit`: the log of changing requests (admin).
struct ShowAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show the audit log: who asked for which change, when, and the answer (admin).")

    @OptionGroup var connection: Connection
    @Option(help: "Entries to show, newest first (1–1000).") var limit: Int = 100

    func run() async throws {
        let page = try await connection.client.get("/v1/audit?limit=\(limit)", as: AuditPage.self)
        try connection.show(page) { print(Self.table(page.entries).rendered) }
    }

    static func table(_ entries: [AuditEntry]) -> Table {
        var table = Table(headers: ["ID", "AT", "CALLER", "ROLE", "METHOD", "PATH", "STATUS"])
        for entry in entries {
            table.rows.append(["\(entry.id)", Timestamp.format(entry.at), entry.caller, entry.role?.rawValue ?? "-",
                               entry.method, entry.path, "\(entry.status)"])
        }
        return table
    }
}

/// `botyard whoami`: the token's name and role as the dispatcher sees them.
struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami", abstract: "Show who the token is and its role.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let me = try await connection.client.get("/v1/me", as: CallerSummary.self)
        try connection.show(me) { print("\(me.name) (\(me.kind.rawValue)), role \(me.role.rawValue)") }
    }
}
