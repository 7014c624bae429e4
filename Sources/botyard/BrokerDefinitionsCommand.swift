import ArgumentParser
import Crypto
import Foundation
import Shared

/// Writes the broker definitions of a Botyard virtual host with least-privilege users; the
/// passwords stay in a secrets folder, the document holds their hashes.
struct BrokerDefinitionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-definitions",
        abstract: "Write RabbitMQ definitions: a vhost, its exchanges and queues, a dispatcher user and one user per runner group.",
        discussion: """
            Each user's password is read from SECRETS/<user>.password, or drawn at random and written \
            there (mode 0600) when the file does not exist; the definitions hold salted SHA-256 hashes \
            only. Apply them with `rabbitmqctl import_definitions FILE`; give the dispatcher \
            amqp://botyard-dispatcher:<password>@host/<vhost> and each group's workers their group's user.
            """)

    @Option(help: "The virtual host.") var vhost = "botyard"

    @Option(name: .customLong("group"), parsing: .singleValue,
            help: "A runner group and the hosts its workers run on, as GROUP=HOST[,HOST...] (repeatable).")
    var groups: [String] = []

    @Option(help: "Folder of the users' password files.") var secrets: String

    @Option(help: "Where to write the definitions (default: standard output).") var output: String?

    func validate() throws {
        for group in groups {
            let (name, hosts) = try Self.parse(group)
            guard Names.isValidGroup(name) else { throw ValidationError("--group \(group): \(Names.groupRule)") }
            guard !hosts.isEmpty, hosts.allSatisfy(Names.isValid) else {
                throw ValidationError("--group \(group): give its hosts as GROUP=HOST[,HOST...]")
            }
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: secrets)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var groupNames: [String] = []
        var grants = [BrokerDefinitions.UserGrant(
            name: BrokerDefinitions.dispatcherUser,
            passwordHash: try Self.passwordHash(of: BrokerDefinitions.dispatcherUser, in: folder),
            permissions: .dispatcher)]
        for group in groups {
            let (name, hosts) = try Self.parse(group)
            groupNames.append(name)
            let user = BrokerDefinitions.groupUser(name)
            grants.append(.init(name: user, passwordHash: try Self.passwordHash(of: user, in: folder),
                                  permissions: .workers(group: name, hosts: hosts)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = try encoder.encode(BrokerDefinitions(virtualHost: vhost, grants: grants, groups: groupNames))
        if let output {
            try document.write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(document + Data("\n".utf8))
        }
    }

    private static func parse(_ group: String) throws -> (String, [String]) {
        let parts = group.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw ValidationError("--group \(group): expected GROUP=HOST[,HOST...]") }
        return (String(parts[0]), parts[1].split(separator: ",").map(String.init))
    }

    /// The hash of the user's password, drawing and storing one first if there is none.
    private static func passwordHash(of user: String, in folder: URL) throws -> String {
        let file = folder.appendingPathComponent("\(user).password")
        if !FileManager.default.fileExists(atPath: file.path) {
            let password = UUID.random().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            guard FileManager.default.createFile(atPath: file.path, contents: Data(password.utf8),
                                                 attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("cannot write \(file.path)") }
        }
        let password = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return RabbitPasswordHash.sha256(password)
    }
}

/// RabbitMQ's `rabbit_password_hashing_sha256`: base64 of a 4-byte salt followed by
/// SHA-256(salt ++ password).
enum RabbitPasswordHash {
    static func sha256(_ password: String, salt: [UInt8] = (0..<4).map { _ in UInt8.random(in: 0...255) }) -> String {
        let digest = SHA256.hash(data: salt + Array(password.utf8))
        return Data(salt + Array(digest)).base64EncodedString()
    }
}
