import Foundation
import Shared
import TestSupport
import Testing

/// The broker users of ``BrokerPermissions``: the dispatcher's and one per runner group.
@Suite("Broker users with least privilege")
struct BrokerPermissionTests {
    @Test("with the dispatcher's user and a group's own user a job runs end to end, and the group's user is refused the other groups' queues, the dispatcher's queues, publishing jobs and deleting queues")
    func leastPrivilege() async throws {
        try await TestBroker.withVirtualHost { url in
            let prefix = url.virtualHost
            let dispatcherURL = try await TestBroker.createUser("\(prefix)-dispatcher", permissions: .dispatcher, in: url)
            let groupURL = try await TestBroker.createUser(
                "\(prefix)-ga", permissions: .workers(group: "ga", hosts: ["h1.corp"]), in: url)
            try await withTeardown {
                try await Fleet.run(workers: 0, url: dispatcherURL) { fleet in
                    let bot = try StampBot(folder: fleet.folder)
                    try await fleet.register(bot.bot("stamp", seconds: 0))
                    try await WorkerProcesses.with(url: groupURL, folder: fleet.folder) { workers in
                        let worker = try workers.start("ga-1", ["--group", "ga", "--host", "h1.corp",
                                                                "--accounts", "robot1", "--lease-retry-interval", "0.3"])
                        // Through the group's queue, then through the account's queue (a launch naming the account).
                        let first = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "ga"))
                        #expect(try await fleet.waitForJob(first, timeout: .seconds(30)).state == .succeeded)
                        try await waitUntil(timeout: .seconds(20)) {
                            try await fleet.account("robot1", of: "ga-1")?.served == true
                        }
                        let second = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "ga", account: "robot1",
                                                                             host: "h1.corp"))
                        #expect(try await fleet.waitForJob(second, timeout: .seconds(30)).state == .succeeded)
                        #expect(worker.logText.contains("the broker user may not declare the exchanges"))
                    }
                }
                try await expectRefusals(as: groupURL)
            } teardown: {
                await TestBroker.deleteUser("\(prefix)-dispatcher")
                await TestBroker.deleteUser("\(prefix)-ga")
            }
        }
    }

    /// What a group's user must not do, each on a channel of its own (a refusal closes it).
    private func expectRefusals(as url: AMQPURL) async throws {
        let connection = try await AMQPConnection.connect(to: url, name: "intruder", logger: Fleet.logger)
        defer { Task { await connection.close() } }
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
