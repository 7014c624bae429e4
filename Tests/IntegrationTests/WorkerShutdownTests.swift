import Foundation
import Logging
import ServiceLifecycle
import Shared
import Testing
import Worker

@Suite("Worker shutdown")
struct WorkerShutdownTests {
    @Test("on SIGTERM a worker lets short bots finish and hands the rest back when its deadline passes")
    func gracefulShutdown() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "short", argv: ["/bin/sleep", "1"], timeoutSeconds: 60))
            try await fleet.register(CreateBotRequest(name: "long", argv: ["/bin/sleep", "120"], timeoutSeconds: 300))
            let worker = WorkerApplication(configuration: WorkerConfiguration(
                amqpURL: fleet.url, group: "g1", workerID: "leaving", host: "host-x", accounts: [.init(name: "robot")],
                workDirectory: fleet.folder.appendingPathComponent("leaving"), terminationGrace: .seconds(2),
                shutdownDeadline: .seconds(3)), logger: Fleet.logger)
            let group = ServiceGroup(configuration: .init(services: [worker.service], logger: Fleet.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let short = try await fleet.submit(SubmitJobRequest(bot: "short", group: "g1"))
                let long = try await fleet.submit(SubmitJobRequest(bot: "long", group: "g1"))
                try await fleet.waitForJob(short) { $0.state == .running }
                try await fleet.waitForJob(long) { $0.state == .running }
                let stopping = ContinuousClock.now
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                #expect(ContinuousClock.now - stopping < .seconds(10))

                #expect(try await fleet.waitForJob(short).state == .succeeded)
                let handedBack = try await fleet.waitForJob(long) { $0.state == .queued }
                #expect(handedBack.history?.last?.reason == "handed back to the queue by leaving at shutdown")
                // The job is back in its queue, for the next worker.
                let connection = try await AMQPConnection.connect(to: fleet.url, name: "inspector", logger: Fleet.logger)
                let channel = try await connection.openChannel()
                #expect(try await channel.inspectQueue(Topology.jobQueue(group: "g1", priority: .normal)).messageCount == 1)
                await connection.close()
            }
        }
    }
}
