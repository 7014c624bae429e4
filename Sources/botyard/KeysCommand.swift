import ArgumentParser
import Foundation
import Shared

/// Makes the keys that keep account credentials sealed: the dispatcher's secrets key, and from it
/// each runner group's credential key for its workers.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make the dispatcher's secrets key and the runner groups' credential keys.",
        subcommands: [Create.self, Group.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new random secrets key for the dispatcher (mode 0600; an existing file is kept).",
            discussion: "Keep it apart from the database: a copy of the database without the key reveals no password.")

        @Option(help: "The key file to write.") var output: String

        func run() throws {
            do { try SecretKey.create(at: output) } catch { throw ValidationError("\(error)") }
            print("secrets key written to \(output)")
        }
    }

    struct Group: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a runner group's credential key, derived from the secrets key, for its workers' --credential-key-file.",
            discussion: "It opens the credentials sent to that group's workers only; it reveals neither the secrets key nor another group's key.")

        @Option(help: "The dispatcher's secrets key file.") var secretsKeyFile: String
        @Option(help: "The runner group.") var group: String
        @Option(help: "The key file to write (mode 0600).") var output: String

        func validate() throws {
            guard Names.isValidGroup(group) else { throw ValidationError("--group \(group): \(Names.groupRule)") }
        }

        func run() throws {
            do {
                let key = try SecretKey.load(from: secretsKeyFile).derived(for: .group(group))
                try key.write(to: output)
            } catch {
                throw ValidationError("\(error)")
            }
            print("credential key of group \(group) written to \(output)")
        }
    }
}
