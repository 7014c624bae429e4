import ArgumentParser
import BotyardClient
import Foundation
import Shared

struct ListDead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dead", abstract: "List dead jobs.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let jobs = try await connection.client.get("/v1/dead", as: [JobSnapshot].self)
        try connection.show(jobs) { print(JobsTable(jobs: jobs.reversed()).rendered) }
    }
}

struct Requeue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a dead job again as a new job with fresh attempts.")

    @OptionGroup var connection: Connection
    @Argument(help: "The dead job's id.") var id: Int64

    func run() async throws {
        let created = try await connection.client.post("/v1/dead/\(id)/requeue", Optional<String>.none, as: JobCreated.self)
        try connection.show(created) { print("job \(id) requeued as job \(created.id) (\(created.state.rawValue))") }
    }
}
