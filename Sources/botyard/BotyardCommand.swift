import ArgumentParser
import BotyardClient
import Foundation
import Shared

@main
struct BotyardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard",
        abstract: "Botyard's command line: bots, jobs, logs, dead jobs, workers, groups, the robot queue, pipelines, workflows and work queues.",
        subcommands: [AddBot.self, ListBots.self, Submit.self, Jobs.self, ShowJob.self, ShowLog.self, Cancel.self,
                      ListDead.self, Requeue.self, ListWorkers.self, ClearHold.self, ListGroups.self, SetGroup.self,
                      ListRobotQueue.self, SetCredential.self, FlowCommands<PipelineKind>.self,
                      FlowCommands<WorkflowKind>.self, WorkQueueCommands.self, WorkItemCommands.self,
                      QueueTriggerCommands.self, ScheduleCommands.self, CalendarCommands.self,
                      BrokerDefinitionsCommand.self, KeysCommand.self]
    )
}

/// Options every command shares.
struct Connection: ParsableArguments {
    @Option(name: .customLong("url"), help: "The dispatcher's URL (default: $BOTYARD_URL, else http://127.0.0.1:8080).")
    var urlOption: String?

    var url: String { urlOption ?? ProcessInfo.processInfo.environment["BOTYARD_URL"] ?? "http://127.0.0.1:8080" }

    var client: DispatcherClient {
        get throws {
            guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
                throw ValidationError("--url must be an http(s) URL")
            }
            // Inside a job, the bot's calls carry its job's token.
            return DispatcherClient(baseURL: base,
                                    bearerToken: ProcessInfo.processInfo.environment["BOTYARD_JOB_TOKEN"])
        }
    }
}

// The CLI accepts these as plain words (`--priority high`).
extension Priority: ExpressibleByArgument {}
extension AdmissionMode: ExpressibleByArgument {}
extension JobState: ExpressibleByArgument {}
