import ArgumentParser
import BotyardClient
import Foundation
import Shared

/// `botyard apply -f FILE`: makes the dispatcher's definitions what a YAML file says.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the dispatcher's definitions (bots, groups, credentials, calendars, queues, triggers, "
            + "schedules, pipelines, workflows) what a YAML file declares.",
        discussion: """
            The file has a section per kind (calendars, bots, groups, credentials, queues, pipelines, workflows, \
            triggers, schedules), each a list of entries written as the API takes them; a credential names \
            passwordEnv or passwordFile, never its password. The whole file is read and checked first: a bad \
            file changes nothing, and every problem is named with its line. Applying the same file again changes \
            nothing. --prune deletes the queues, triggers, schedules, calendars, pipelines and workflows the file \
            does not name (the API deletes no bot, group or credential).
            """)

    @OptionGroup var connection: Connection
    @Option(name: .shortAndLong, help: "The YAML file (- for standard input).") var file: String
    @Flag(help: "Print what would change, and change nothing.") var dryRun = false
    @Flag(help: "Also delete what the file does not name.") var prune = false

    /// A file with problems: their list, without the usage text a ``ValidationError`` adds.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// What `--output json` prints.
    struct Outcome: Encodable {
        struct Change: Encodable {
            var kind: String
            var name: String
            var action: String
            var differences: [String]
        }

        var changes: [Change]
        var applied: Bool
        var summary: String
    }

    func run() async throws {
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read \(file)")
            }
            text = contents
        }
        let manifest: ApplyManifest
        do {
            manifest = try ApplyManifest(yaml: text, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw Refused(description: "\(file) is refused, nothing was changed:\n\(error)")
        }
        let applier = Applier(client: try connection.client)
        let plan = ApplyPlan(desired: manifest.resources, current: try await applier.currentState(), prune: prune)
        let outcome = Outcome(
            changes: plan.changes.map { .init(kind: $0.kind.rawValue, name: $0.name, action: $0.action.rawValue,
                                              differences: $0.differences) },
            applied: !dryRun && plan.changesSomething, summary: plan.summary)
        if connection.output == .table {
            for change in plan.changes { print(change) }
        }
        if !dryRun {
            for change in plan.changes where change.action.changes { try await applier.apply(change) }
        }
        try connection.show(outcome) {
            if dryRun {
                print("dry run, nothing sent: \(plan.summary)")
            } else {
                print(plan.changesSomething ? "applied: \(plan.summary)" : "nothing to change: \(plan.summary)")
            }
        }
    }
}
