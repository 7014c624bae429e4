import Foundation
import Shared
import TestSupport
import Testing

/// The broker users of ``BrokerPermissions``: the dispatcher's and one per runner group.
@Suite("Broker users with least privilege")
struct BrokerPermissionTests {
    @Test("with the users of the broker definitions (the dispatcher's, a group's) a job runs end to end, and the group's user is refused the other groups' queues, the dispatcher's queues, publishing jobs and deleting queues")
    func leastPrivilege() async throws {
        try await TestBroker.withVirtualHost { url in
            let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(url.virtualHost)")
            defer { try? FileManager.default.removeItem(at: secrets) }
            let definitions = try definitions(vhost: url.virtualHost, groups: ["ga=h1.corp"], secrets: secrets)
            #expect(!definitions.contains(try password(of: BrokerDefinitions.dispatcherUser, in: secrets)))
            try await TestBroker.management(.post, "api/definitions", body: definitions)
            let dispatcherURL = try user(BrokerDefinitions.dispatcherUser, of: url, secrets: secrets)
            let groupURL = try user(BrokerDefinitions.groupUser("ga"), of: url, secrets: secrets)
            try await withTeardown {
                try await Fleet.run(workers: 0, url: dispatcherURL) { fleet in
                    let bot = try StampBot(folder: fleet.folder)
                    try await fleet.register(bot.bot("stamp", seconds: 0))
                    try await WorkerProcesses.with(url: groupURL, folder: fleet.folder) { workers in
                        let worker = try await workers.start("ga-1", ["--group", "ga", "--host", "h1.corp", "--accounts",
                                                                "robot1", "--lease-retry-interval", "0.3"])
                        // The definitions declared the group's queues: the worker serves before any job.
                        try await waitUntil(timeout: .seconds(20)) {
                            try await fleet.account("robot1", of: "ga-1")?.served == true
                        }
                        // Through the group's queue, then through the account's queue (a launch naming the account).
                        let first = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "ga"))
                        #expect(try await fleet.waitForJob(first, timeout: .seconds(30)).state == .succeeded)
                        let second = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "ga", account: "robot1",
                                                                             host: "h1.corp"))
                        #expect(try await fleet.waitForJob(second, timeout: .seconds(30)).state == .succeeded)
                        #expect(worker.logText.contains("the broker user may not declare the exchanges"))
                        #expect(!worker.logText.contains("the account's channel failed"))
                    }
                }
                try await expectRefusals(as: groupURL)
            } teardown: {
                await TestBroker.deleteUser(BrokerDefinitions.dispatcherUser)
                await TestBroker.deleteUser(BrokerDefinitions.groupUser("ga"))
            }
        }
    }

    /// What `botyard broker-definitions` writes.
    private func definitions(vhost: String, groups: [String], secrets: URL) throws -> String {
        let process = Process()
        process.executableURL = WorkerProcess.binaries.appendingPathComponent("botyard")
        process.arguments = ["broker-definitions", "--vhost", vhost, "--secrets", secrets.path]
            + groups.flatMap { ["--group", $0] }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return String(decoding: output, as: UTF8.self)
    }

    private func password(of user: String, in secrets: URL) throws -> String {
        try String(contentsOf: secrets.appendingPathComponent("\(user).password"), encoding: .utf8)
    }

    private func user(_ name: String, of url: AMQPURL, secrets: URL) throws -> AMQPURL {
        var userURL = url
        userURL.user = name
        userURL.password = try password(of: name, in: secrets)
        return userURL
    }

    /// What a group's user must not do, each on a channel of its own (a refusal closes it).
    private func expectRefusals(as url: AMQPURL) async throws {
        let refusals: [(String, @Sendable (AMQPChannel) async throws -> Void)] = [
            ("consume another group's queue", { _ = try await $0.consume(queue: Topology.jobQueue(group: "gb", priority: .normal)) }),
            ("consume the dispatcher's reports", { _ = try await $0.consume(queue: Topology.dispatcherEventsQueue) }),
            ("consume the parked jobs", { _ = try await $0.consume(queue: Topology.deadQueue) }),
            ("publish a job", { channel in
                try await channel.enableConfirms()
                try await channel.publish(AMQPMessage(exchange: Topology.jobsExchange, routingKey: "ga.normal",
                                                      body: Data("{}".utf8)))
            }),
            ("publish a report of another kind", { channel in
                try await channel.enableConfirms()
                try await channel.publish(AMQPMessage(exchange: Topology.eventsExchange, routingKey: "anything",
                                                      body: Data("{}".utf8)))
            }),
            ("delete the parked jobs' queue", { try await $0.deleteQueue(Topology.deadQueue) }),
            ("delete its own group's queue", { try await $0.deleteQueue(Topology.jobQueue(group: "ga", priority: .normal)) }),
            ("declare a queue of its own", { try await $0.declareQueue("botyard.jobs.ga.mine") }),
            ("bind its account's queue to another group's jobs", {
                try await $0.bindQueue(Topology.accountQueue(host: "h1.corp", account: "robot1"),
                                       exchange: Topology.jobsExchange, routingKey: "gb.normal")
            }),
        ]
        try await withConnection(to: url, name: "intruder") { connection in
            for (action, attempt) in refusals {
                let channel = try await connection.openChannel()
                await #expect("\(action) must be refused") {
                    try await attempt(channel)
                } throws: { error in
                    (error as? AMQPError)?.replyCode == 403
                }
            }
            #expect(connection.isOpen)
        }
    }
}
