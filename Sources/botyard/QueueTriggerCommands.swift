import ArgumentParser
import BotyardClient
import Foundation
import Shared

extension QueueTriggerStrategy: ExpressibleByArgument {}

struct QueueTriggerCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger", abstract: "Queue triggers: start a bot's jobs when a work queue has items.",
        subcommands: [SetTrigger.self, ListTriggers.self, ShowTrigger.self, DeleteTrigger.self])
}

struct SetTrigger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Create or replace a queue's trigger; it evaluates at once.")

    @OptionGroup var connection: Connection
    @Argument(help: "The work queue it watches.") var queue: String
    @Option(help: "The bot its jobs run.") var bot: String
    @Option(help: "Runner group.") var group: String = "default"
    @Option(help: "Run the jobs under this account only.") var account: String?
    @Option(help: "dev, staging or prod.") var environment: String = "prod"
    @Option(help: "high, normal or low.") var priority: Priority = .normal
    @Option(help: "No job starts while fewer ready items wait.") var minItems = 1
    @Option(help: "The most jobs of the trigger at once.") var maxJobs = 1
    @Option(help: "One more job per this many ready items beyond the minimum.") var itemsPerJob = 1
    @Flag(help: "uipath: count only pending jobs against the maximum (UiPath's switch).") var pendingOnly = false
    @Flag(help: "Do not evaluate again when a job of the trigger ends (uipath).") var noReassess = false
    @Option(help: "Minutes between periodic rechecks (10 or more).") var recheckMinutes = 30
    @Option(help: "exact (Botyard's) or uipath (UiPath Orchestrator's rule).") var strategy: QueueTriggerStrategy = .exact
    @Flag(help: "Save it disabled: it starts nothing until enabled.") var disabled = false
    @Option(help: "Start jobs only in this window, in quotes: 'Mon-Fri 08:00-18:00'.") var window: String?
    @Option(help: "IANA time zone the window is read in.") var timeZone = "UTC"

    func run() async throws {
        let activeWindow = try ActiveWindow(option: window)
        let definition = QueueTriggerDefinition(
            queue: queue, bot: bot, group: group, account: account, environment: environment, priority: priority,
            minItemsToTrigger: minItems, maxConcurrentJobs: maxJobs, itemsPerJob: itemsPerJob,
            pendingJobsStrategy: pendingOnly, reassessOnJobCompletion: !noReassess, recheckMinutes: recheckMinutes,
            strategy: strategy, enabled: !disabled, window: activeWindow, timeZone: timeZone)
        let saved = try await connection.client.put("/v1/queues/\(queue)/trigger", definition,
                                                    as: QueueTriggerSnapshot.self)
        try connection.show(saved) {
            print("trigger of queue \(queue) saved")
            if let report = saved.lastEvaluation { print(TriggerReportView(report: report).rendered) }
        }
    }
}

struct ListTriggers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List queue triggers.")

    @OptionGroup var connection: Connection

    func run() async throws {
        var table = Table(headers: ["QUEUE", "BOT", "GROUP", "STRATEGY", "MIN", "MAX", "PER JOB", "LAST", "STARTED"])
        let triggers = try await connection.client.get("/v1/queue-triggers", as: [QueueTriggerSnapshot].self)
        for trigger in triggers {
            let definition = trigger.definition
            let strategy = definition.strategy == .uipath && definition.pendingJobsStrategy
                ? "uipath (pending only)" : definition.strategy.rawValue
            table.rows.append([
                definition.queue, definition.bot, definition.group, definition.enabled ? strategy : "disabled",
                "\(definition.minItemsToTrigger)", "\(definition.maxConcurrentJobs)", "\(definition.itemsPerJob)",
                trigger.lastEvaluation.map { Timestamp.format($0.at) } ?? "-",
                trigger.lastEvaluation.map { "\($0.startedJobs.count)" } ?? "-",
            ])
        }
        try connection.show(triggers) { print(table.rendered) }
    }
}

struct ShowTrigger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a queue's trigger and its last evaluation.")

    @OptionGroup var connection: Connection
    @Argument(help: "The work queue.") var queue: String

    func run() async throws {
        let trigger = try await connection.client.get("/v1/queues/\(queue)/trigger", as: QueueTriggerSnapshot.self)
        try connection.show(trigger) { Self.render(trigger) }
    }

    static func render(_ trigger: QueueTriggerSnapshot) {
        let definition = trigger.definition
        print("""
            queue \(definition.queue): bot \(definition.bot) on \(definition.group)\
            \(definition.account.map { " as \($0)" } ?? ""), \(definition.strategy.rawValue)\
            \(definition.strategy == .uipath ? (definition.pendingJobsStrategy ? ", pending jobs only" : ", pending and running jobs") : "")\
            \(definition.enabled ? "" : ", disabled")
            min \(definition.minItemsToTrigger) items, max \(definition.maxConcurrentJobs) jobs, \
            one more per \(definition.itemsPerJob) items; recheck every \(definition.recheckMinutes) min \
            (next \(Timestamp.format(trigger.nextRecheckAt)))
            """)
        if let window = definition.window {
            print("starts jobs only in \(window) \(definition.timeZone), when the bot's p90 run time fits")
        }
        if let report = trigger.lastEvaluation { print(TriggerReportView(report: report).rendered) }
    }
}

struct DeleteTrigger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a queue's trigger (its jobs run on).")

    @OptionGroup var connection: Connection
    @Argument(help: "The work queue.") var queue: String

    func run() async throws {
        try await connection.client.delete("/v1/queues/\(queue)/trigger")
        try connection.say("trigger of queue \(queue) deleted")
    }
}

/// A trigger's last evaluation, in a few lines.
struct TriggerReportView {
    var report: QueueTriggerReport

    var rendered: String {
        let evaluation = report.evaluation
        let inputs = evaluation.inputs
        var lines = [
            "last evaluation \(Timestamp.format(report.at)) (\(report.cause)):",
            "  items ready \(inputs.readyItems), postponed \(inputs.deferredItems), in the jobs' hands "
                + "\(inputs.inProgressItems); jobs pending \(inputs.pendingJobs), running \(inputs.runningJobs)",
            "  desired \(evaluation.desiredJobs) − counted \(evaluation.countedJobs), capacity \(evaluation.capacity) "
                + "→ start \(evaluation.jobsToStart)"
                + (report.startedJobs.isEmpty ? "" : " (jobs \(report.startedJobs.map(String.init).joined(separator: ", ")))"),
        ]
        if let reason = evaluation.reason { lines.append("  \(reason)") }
        if let problem = report.problem { lines.append("  not started: \(problem)") }
        return lines.joined(separator: "\n")
    }
}
