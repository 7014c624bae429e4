import ArgumentParser
import BotyardClient
import Foundation
import Shared

/// `botyard pipeline …` and `botyard workflow …`: one set of commands, for either kind.
protocol FlowCLIKind {
    associatedtype Definition: FlowDefinition
}

enum PipelineKind: FlowCLIKind {
    typealias Definition = PipelineDefinition
}

enum WorkflowKind: FlowCLIKind {
    typealias Definition = WorkflowDefinition
}

struct FlowCommands<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var kind: FlowKind { Kind.Definition.kind }

    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: kind.rawValue,
            abstract: "\(kind.rawValue.capitalized)s: define them, start runs, watch, pause, resume and cancel runs.",
            subcommands: [SetFlow<Kind>.self, ListFlows<Kind>.self, ShowFlow<Kind>.self, DeleteFlow<Kind>.self,
                          StartFlowRun<Kind>.self, ListFlowRuns<Kind>.self, ShowFlowRun<Kind>.self,
                          PauseFlowRun<Kind>.self, ResumeFlowRun<Kind>.self, CancelFlowRun<Kind>.self])
    }
}

struct SetFlow<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "set", abstract: "Create or replace a \(FlowCommands<Kind>.kind.rawValue) from a JSON file.")
    }

    @OptionGroup var connection: Connection
    @Option(name: .shortAndLong, help: "The definition, as JSON (- for standard input).") var file: String

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile()
            : try Data(contentsOf: URL(fileURLWithPath: file))
        let definition: Kind.Definition
        do {
            definition = try JSONCodec.decode(Kind.Definition.self, from: data)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        let kind = FlowCommands<Kind>.kind
        let saved = try await connection.client.put("/v1/\(kind.plural)/\(definition.name)", definition,
                                                    as: Kind.Definition.self)
        try connection.show(saved) { print("\(kind.rawValue) \(saved.name) saved") }
    }
}

struct ListFlows<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "list", abstract: "List \(FlowCommands<Kind>.kind.plural).")
    }

    @OptionGroup var connection: Connection

    func run() async throws {
        let definitions = try await connection.client.get("/v1/\(FlowCommands<Kind>.kind.plural)",
                                                          as: [Kind.Definition].self)
        var table = Table(headers: ["NAME", "BOTS"])
        for definition in definitions {
            table.rows.append([definition.name, definition.botNames.joined(separator: ", ")])
        }
        try connection.show(definitions) { print(table.rendered) }
    }
}

struct ShowFlow<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "show", abstract: "Print a \(FlowCommands<Kind>.kind.rawValue)'s definition as JSON.")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "Its name.") var name: String

    func run() async throws {
        let definition = try await connection.client.get("/v1/\(FlowCommands<Kind>.kind.plural)/\(name)",
                                                         as: Kind.Definition.self)
        // The definition is JSON either way: as `set --file` takes it.
        print(try Connection.json(definition))
    }
}

struct DeleteFlow<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "delete",
                             abstract: "Delete a \(FlowCommands<Kind>.kind.rawValue) (its runs go on and stay readable).")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "Its name.") var name: String

    func run() async throws {
        try await connection.client.delete("/v1/\(FlowCommands<Kind>.kind.plural)/\(name)")
        try connection.say("\(FlowCommands<Kind>.kind.rawValue) \(name) deleted")
    }
}

struct StartFlowRun<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "start", abstract: "Start a run of a \(FlowCommands<Kind>.kind.rawValue).")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "Its name.") var name: String
    @Flag(help: "Wait until the run ends and print it.") var wait = false

    func run() async throws {
        let kind = FlowCommands<Kind>.kind
        let client = try connection.client
        let created = try await client.post("/v1/\(kind.plural)/\(name)/runs", StartFlowRunRequest(initiator: "cli"),
                                            as: FlowRunCreated.self)
        guard wait else {
            try connection.show(created) { print("\(kind.rawValue) run \(created.id) \(created.state.rawValue)") }
            return
        }
        while true {
            let run = try await client.get("/v1/\(kind.rawValue)-runs/\(created.id)", as: FlowRunSnapshot.self)
            if run.state.isTerminal {
                try connection.show(run) { print(FlowRunView(run: run).rendered) }
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

struct ListFlowRuns<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "runs", abstract: "List a \(FlowCommands<Kind>.kind.rawValue)'s runs, newest first.")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "Its name.") var name: String

    func run() async throws {
        let kind = FlowCommands<Kind>.kind
        let runs = try await connection.client.get("/v1/\(kind.plural)/\(name)/runs", as: [FlowRunSnapshot].self)
        var table = Table(headers: ["RUN", "STATE", "INITIATOR", "STARTED", "FINISHED", "REASON"])
        for run in runs {
            table.rows.append([String(run.id), run.state.rawValue, run.initiator, FlowRunView.time(run.createdAt),
                               run.finishedAt.map(FlowRunView.time) ?? "-", run.reason ?? ""])
        }
        try connection.show(runs) { print(table.rendered) }
    }
}

struct ShowFlowRun<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "run", abstract: "Show a run with each step's job.")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "The run's id.") var id: Int64

    func run() async throws {
        let run = try await connection.client.get("/v1/\(FlowCommands<Kind>.kind.rawValue)-runs/\(id)",
                                                  as: FlowRunSnapshot.self)
        try connection.show(run) { print(FlowRunView(run: run).rendered) }
    }
}

struct PauseFlowRun<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "pause", abstract: "Pause a run: what runs finishes, nothing new starts.")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "The run's id.") var id: Int64

    func run() async throws { try await FlowRunView.send(.pause, to: id, of: FlowCommands<Kind>.kind, connection) }
}

struct ResumeFlowRun<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "resume", abstract: "Resume a paused run.")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "The run's id.") var id: Int64

    func run() async throws { try await FlowRunView.send(.resume, to: id, of: FlowCommands<Kind>.kind, connection) }
}

struct CancelFlowRun<Kind: FlowCLIKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "cancel", abstract: "Cancel a run: stop its running bots, abandon the rest.")
    }

    @OptionGroup var connection: Connection
    @Argument(help: "The run's id.") var id: Int64

    func run() async throws { try await FlowRunView.send(.cancel, to: id, of: FlowCommands<Kind>.kind, connection) }
}

/// A run and its steps, for the terminal.
struct FlowRunView {
    var run: FlowRunSnapshot

    var rendered: String {
        var lines = ["\(run.kind.rawValue) run \(run.id) (\(run.name)): \(run.state.rawValue)"
            + (run.reason.map { " — \($0)" } ?? "")
            + (run.outstanding.map { $0 > 0 ? ", \($0) continue job(s) outstanding" : "" } ?? "")]
        let pipeline = run.kind == .pipeline
        var table = Table(headers: (pipeline ? ["STEP", "BOT", "STATE", "ON FAILURE"] : ["NODE", "BOT", "STATE"])
            + ["JOB", "JOB STATE", "ATTEMPTS", "STARTED", "FINISHED", pipeline ? "REASON" : "VARIABLES / REASON"])
        for step in run.steps ?? [] {
            let detail = step.state == .failed || step.state == .cancelled
                ? (step.failureKind.map { "\($0.rawValue): " } ?? "") + (step.reason ?? "")
                : (step.variables ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            var row: [String] = [step.id, step.bot, step.state.rawValue]
            if pipeline { row.append(step.onFailure?.rawValue ?? "-") }
            row.append(step.jobID.map { String($0) } ?? "-")
            row.append(step.jobState?.rawValue ?? "-")
            row.append(step.attempts.map { String($0) } ?? "-")
            row.append(step.startedAt.map(Self.time) ?? "-")
            row.append(step.finishedAt.map(Self.time) ?? "-")
            row.append(detail)
            table.rows.append(row)
        }
        lines.append(table.rendered)
        return lines.joined(separator: "\n")
    }

    /// Sends a pause, resume or cancel and prints the run as it is afterwards.
    static func send(_ command: FlowCommand, to id: Int64, of kind: FlowKind, _ connection: Connection) async throws {
        let path = "/v1/\(kind.rawValue)-runs/\(id)/\(command.rawValue)"
        let run = try await connection.client.post(path, Optional<StartFlowRunRequest>.none, as: FlowRunSnapshot.self)
        try connection.show(run) { print(FlowRunView(run: run).rendered) }
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss.SSS"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
