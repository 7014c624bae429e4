import ArgumentParser
import BotyardClient
import Foundation
import Shared

struct AddBot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-bot", abstract: "Register or update a bot.")

    @OptionGroup var connection: Connection
    @Option(help: "The bot's name.") var name: String
    @Option(help: "Its version.") var version: String?
    @Option(help: "Seconds one attempt may run.") var timeout: Int?
    @Option(help: "Attempts in all.") var maxAttempts: Int = 3
    @Option(help: "Milliseconds between attempts.") var waitMs: Int = 5_000
    @Option(help: "Working directory (absolute).") var workingDirectory: String?
    @Flag(help: "The bot needs the account's GUI session.") var needsUI = false
    @Option(name: .customLong("mark"), help: "A mutex tag (repeatable): runs sharing one never run on one account at once.")
    var marks: [String] = []
    @Option(help: "Seconds the bot may take to finish its step after its stop file appears, before SIGTERM (default 10).")
    var stopGrace: Int?
    @Option(name: .customLong("cleanup"),
            help: "The account's cleanup after a stopped or crashed run: the program, then its arguments (repeat the option for each).")
    var cleanup: [String] = []
    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.") var argv: [String]

    func run() async throws {
        let request = CreateBotRequest(
            name: name, version: version, argv: argv, workingDirectory: workingDirectory, needsUI: needsUI,
            timeoutSeconds: timeout, retry: .fixed(maxAttempts: maxAttempts, waitMilliseconds: waitMs), marks: marks,
            stopGraceSeconds: stopGrace, cleanup: cleanup.isEmpty ? nil : cleanup)
        let bot = try await connection.client.post("/v1/bots", request, as: BotDefinition.self)
        try connection.show(bot) { print("bot \(bot.name) v\(bot.version): \(bot.argv.joined(separator: " "))") }
    }
}

struct ShowBot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bot", abstract: "Show a bot's definition.")

    @OptionGroup var connection: Connection
    @Argument(help: "The bot's name.") var name: String

    func run() async throws {
        let bot = try await connection.client.get("/v1/bots/\(name)", as: BotDefinition.self)
        try connection.show(bot) {
            print("bot \(bot.name) v\(bot.version): \(bot.argv.joined(separator: " "))")
            let marks = bot.marks.isEmpty ? "" : ", marks \(bot.marks.joined(separator: ", "))"
            print("  timeout \(bot.timeoutSeconds) s, \(bot.retry.maxAttempts) attempts, "
                  + "UI \(bot.needsUI ? "yes" : "no")\(marks)")
        }
    }
}

struct ListBots: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bots", abstract: "List bots.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let bots = try await connection.client.get("/v1/bots", as: [BotDefinition].self)
        var table = Table(headers: ["BOT", "VERSION", "UI", "TIMEOUT", "ATTEMPTS", "PROGRAM"])
        for bot in bots {
            table.rows.append([bot.name, bot.version, bot.needsUI ? "yes" : "no", "\(bot.timeoutSeconds)s",
                               "\(bot.retry.maxAttempts)", bot.argv.joined(separator: " ")])
        }
        try connection.show(bots) { print(table.rendered) }
    }
}
