import ArgumentParser
import BotyardClient
import Foundation
import Shared

struct ListRobotQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "robot-queue",
                                                    abstract: "List targeted launches that wait for their account.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let entries = try await connection.client.get("/v1/robot-queue", as: [RobotQueueEntry].self)
        var table = Table(headers: ["JOB", "BOT", "VERSION", "UI", "ADDED", "LAUNCH", "INITIATOR", "HOST", "ACCOUNT",
                                    "TRIES", "REASON"])
        for entry in entries {
            table.rows.append([
                "\(entry.jobID)", entry.bot, entry.botVersion, entry.needsUI ? "yes" : "no", Timestamp.format(entry.addedAt),
                entry.launchMethod.rawValue, entry.initiator, entry.host ?? "any", entry.account,
                "\(entry.attempts)/\(entry.maxAttempts)", entry.reason,
            ])
        }
        try connection.show(entries) { print(table.rendered) }
    }
}

struct ListCredentials: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials", abstract: "List the stored credentials, without their passwords (admin).")

    @OptionGroup var connection: Connection

    func run() async throws {
        let credentials = try await connection.client.get("/v1/credentials", as: [CredentialSummary].self)
        var table = Table(headers: ["HOST", "ACCOUNT", "USERNAME", "UPDATED"])
        for credential in credentials {
            table.rows.append([credential.host, credential.account, credential.username,
                               Timestamp.format(credential.updatedAt)])
        }
        try connection.show(credentials) { print(table.rendered) }
    }
}

struct SetCredential: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-credential",
        abstract: "Store the credential UI bots use on an account; the password is read from standard input.")

    @OptionGroup var connection: Connection
    @Argument(help: "The host.") var host: String
    @Argument(help: "The account.") var account: String
    @Option(help: "The user name to log on with.") var username: String

    func run() async throws {
        guard let password = Self.readPassword() else {
            throw ValidationError("expected the password on standard input")
        }
        try await connection.client.putNoContent("/v1/credentials/\(host)/\(account)",
                                                     AccountCredential(username: username, password: password))
        try connection.say("credential of \(account) on \(host) stored")
    }
}

extension SetCredential {
    /// A line from standard input; on a terminal it asks for it and does not echo what is typed.
    static func readPassword() -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return readLine(strippingNewline: true) }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        FileHandle.standardError.write(Data("password: ".utf8))
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true)
    }
}
