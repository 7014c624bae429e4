import ArgumentParser
import BotyardClient
import Foundation
import Shared

@main
struct BotyardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard",
        abstract: "Botyard's command line: bots, jobs, logs, dead jobs, workers, groups, the robot queue, pipelines, workflows and work queues.",
        subcommands: [AddBot.self, ListBots.self, ShowBot.self, Submit.self, SubmitBatch.self, Jobs.self, ShowJob.self,
                      ShowLog.self, Cancel.self, ListDead.self, Requeue.self, ListWorkers.self, ClearHold.self,
                      ListGroups.self, SetGroup.self, ListRobotQueue.self, ListCredentials.self, SetCredential.self,
                      ShowStats.self, Health.self, FlowCommands<PipelineKind>.self,
                      FlowCommands<WorkflowKind>.self, WorkQueueCommands.self, WorkItemCommands.self,
                      QueueTriggerCommands.self, ScheduleCommands.self, CalendarCommands.self, ApplyCommand.self,
                      TokenCommands.self, ShowAudit.self, WhoAmI.self, BrokerDefinitionsCommand.self,
                      KeysCommand.self]
    )
}

/// Options every command shares.
struct Connection: ParsableArguments {
    @Option(name: .customLong("url"), help: "The dispatcher's URL (default: $BOTYARD_URL, else http://127.0.0.1:8080).")
    var urlOption: String?

    var url: String { urlOption ?? ProcessInfo.processInfo.environment["BOTYARD_URL"] ?? "http://127.0.0.1:8080" }

    @Option(help: "table (for people) or json (the API's answer, for scripts).")
    var output: OutputFormat = .table

    @Option(name: .customLong("token-file"),
            help: """
                File holding the API token (default: inside a job, the job's token in $BOTYARD_JOB_TOKEN, else the \
                token in $BOTYARD_TOKEN).
                """)
    var tokenFile: String?

    /// The bearer token: the file's, else — a bot calling from its job — the job's (its calls are
    /// its job's, whatever token its environment inherited), else `BOTYARD_TOKEN`.
    var token: String? {
        get throws {
            if let tokenFile {
                guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    throw ValidationError("--token-file: cannot read \(tokenFile)")
                }
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let environment = ProcessInfo.processInfo.environment
            return [environment["BOTYARD_JOB_TOKEN"], environment["BOTYARD_TOKEN"]]
                .compactMap { $0 }.first { !$0.isEmpty }
        }
    }

    var client: DispatcherClient {
        get throws {
            guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
                throw ValidationError("--url must be an http(s) URL")
            }
            return DispatcherClient(baseURL: base, bearerToken: try token)
        }
    }
}

// The CLI accepts these as plain words (`--priority high`).
extension Priority: ExpressibleByArgument {}
extension AdmissionMode: ExpressibleByArgument {}
extension JobState: ExpressibleByArgument {}
