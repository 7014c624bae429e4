import ArgumentParser
import BotyardClient
import Foundation
import Shared

extension MissedRunPolicy: ExpressibleByArgument {}

extension ActiveWindow {
    /// The window a `--window` option gives (`'Mon-Fri 08:00-18:00'`); nil when it was left out.
    init?(option text: String?) throws(ValidationError) {
        guard let text else { return nil }
        do throws(ScheduleError) {
            try self.init(parsing: text)
        } catch {
            throw ValidationError("--window: \(error)")
        }
    }
}

struct ScheduleCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Schedules: start a bot, a pipeline or a workflow on the clock.",
        subcommands: [SetSchedule.self, ListSchedules.self, ShowSchedule.self, PauseSchedule.self,
                      ResumeSchedule.self, DeleteSchedule.self, ScheduleHistory.self])
}

struct SetSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Create or replace a schedule; it waits for its next firing.")

    @OptionGroup var connection: Connection
    @Argument(help: "The schedule's name.") var name: String
    @Option(help: "5-field cron, in quotes: '0 7 * * Mon-Fri'.") var cron: String
    @Option(help: "IANA time zone the cron and the window are read in.") var timeZone = "UTC"
    @Option(help: "The bot whose job it submits.") var bot: String?
    @Option(help: "With --bot: runner group.") var group = "default"
    @Option(help: "With --bot: dev, staging or prod.") var environment = "prod"
    @Option(help: "With --bot: high, normal or low.") var priority: Priority = .normal
    @Option(help: "With --bot: an input, key=value (repeatable).") var input: [String] = []
    @Option(help: "The pipeline it runs.") var pipeline: String?
    @Option(help: "The workflow it runs.") var workflow: String?
    @Option(help: "Calendar of non-working dates without firings.") var calendar: String?
    @Option(help: "Active window, in quotes: 'Mon-Fri 08:00-18:00'.") var window: String?
    @Option(help: "Firings missed while no dispatcher ran: runOnce or skip.") var missedRuns: MissedRunPolicy = .runOnce
    @Flag(help: "Save it paused.") var paused = false

    func run() async throws {
        let named = [bot, pipeline, workflow].compactMap { $0 }
        guard named.count == 1 else { throw ValidationError("name exactly one of --bot, --pipeline, --workflow") }
        let target: ScheduleTarget
        if let bot {
            var inputs: [String: String] = [:]
            for pair in input {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--input must be key=value, not '\(pair)'") }
                inputs[parts[0]] = parts[1]
            }
            target = .bot(ScheduledJob(bot: bot, group: group, environment: environment, priority: priority,
                                       inputs: inputs))
        } else {
            target = pipeline.map(ScheduleTarget.pipeline) ?? .workflow(workflow ?? "")
        }
        let activeWindow = try ActiveWindow(option: window)
        let definition = ScheduleDefinition(name: name, target: target, cron: cron, timeZone: timeZone,
                                            calendar: calendar, window: activeWindow, missedRunPolicy: missedRuns,
                                            enabled: !paused)
        let saved = try await connection.client.put("/v1/schedules/\(name)", definition, as: ScheduleSnapshot.self)
        try connection.show(saved) { print(ScheduleView(schedule: saved).rendered) }
    }
}

struct ListSchedules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List schedules.")

    @OptionGroup var connection: Connection

    func run() async throws {
        var table = Table(headers: ["NAME", "STARTS", "CRON", "ZONE", "STATE", "NEXT", "LAST"])
        let schedules = try await connection.client.get("/v1/schedules", as: [ScheduleSnapshot].self)
        for schedule in schedules {
            let definition = schedule.definition
            table.rows.append([
                definition.name, ScheduleView.target(definition.target), definition.cron, definition.timeZone,
                definition.enabled ? "active" : "paused", schedule.nextFirings.first?.local ?? "-",
                schedule.lastFiring.map { "\($0.outcome.rawValue) \(Timestamp.format($0.handledAt))" } ?? "-",
            ])
        }
        try connection.show(schedules) { print(table.rendered) }
    }
}

struct ShowSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a schedule with its next five firings in its zone.")

    @OptionGroup var connection: Connection
    @Argument(help: "The schedule.") var name: String

    func run() async throws {
        let schedule = try await connection.client.get("/v1/schedules/\(name)", as: ScheduleSnapshot.self)
        try connection.show(schedule) { print(ScheduleView(schedule: schedule).rendered) }
    }
}

struct PauseSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Pause a schedule: it starts nothing, and makes nothing up when resumed.")

    @OptionGroup var connection: Connection
    @Argument(help: "The schedule.") var name: String

    func run() async throws {
        let schedule = try await connection.client.post("/v1/schedules/\(name)/pause", String?.none,
                                                        as: ScheduleSnapshot.self)
        try connection.show(schedule) { print("schedule \(name) paused") }
    }
}

struct ResumeSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume a schedule: it waits for its next firing.")

    @OptionGroup var connection: Connection
    @Argument(help: "The schedule.") var name: String

    func run() async throws {
        let schedule = try await connection.client.post("/v1/schedules/\(name)/resume", String?.none,
                                                        as: ScheduleSnapshot.self)
        try connection.show(schedule) {
            print("schedule \(name) resumed; next firing \(schedule.nextFirings.first?.local ?? "none")")
        }
    }
}

struct DeleteSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a schedule and its history (what it started runs on).")

    @OptionGroup var connection: Connection
    @Argument(help: "The schedule.") var name: String

    func run() async throws {
        try await connection.client.delete("/v1/schedules/\(name)")
        try connection.say("schedule \(name) deleted")
    }
}

struct ScheduleHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "A schedule's firings, newest first, with what each started.")

    @OptionGroup var connection: Connection
    @Argument(help: "The schedule.") var name: String
    @Option(help: "How many firings (1-1000).") var limit = 20

    func run() async throws {
        let firings = try await connection.client.get("/v1/schedules/\(name)/firings?limit=\(limit)",
                                                      as: [ScheduleFiring].self)
        var table = Table(headers: ["DUE", "LATE", "OUTCOME", "STARTED", "STATE", "REASON"])
        for firing in firings {
            let started = firing.jobID.map { "job \($0)" } ?? firing.pipelineRunID.map { "pipeline run \($0)" }
                ?? firing.workflowRunID.map { "workflow run \($0)" } ?? "-"
            table.rows.append([Timestamp.format(firing.scheduledFor), "\(firing.latenessMilliseconds) ms",
                               firing.outcome.rawValue, started, firing.startedState ?? "-", firing.reason])
        }
        try connection.show(firings) { print(table.rendered) }
    }
}

/// A schedule in a few lines: what it starts, when, and its next firings on its zone's clocks.
struct ScheduleView {
    var schedule: ScheduleSnapshot

    static func target(_ target: ScheduleTarget) -> String {
        switch target {
        case .bot(let job): "bot \(job.bot) on \(job.group)"
        case .flow(let kind, let name): "\(kind.rawValue) \(name)"
        }
    }

    var rendered: String {
        let definition = schedule.definition
        var lines = [
            "schedule \(definition.name): \(Self.target(definition.target)), '\(definition.cron)' in "
                + "\(definition.timeZone)\(definition.enabled ? "" : ", paused")",
            "  calendar \(definition.calendar ?? "none"), window \(definition.window?.description ?? "none"), "
                + "missed runs: \(definition.missedRunPolicy.rawValue)",
        ]
        lines.append(schedule.nextFirings.isEmpty ? "  no next firing" : "  next firings:")
        lines += schedule.nextFirings.map { "    \($0.local)" }
        if let last = schedule.lastFiring {
            lines.append("  last firing \(Timestamp.format(last.scheduledFor)): \(last.outcome.rawValue), \(last.reason)")
        }
        return lines.joined(separator: "\n")
    }
}
