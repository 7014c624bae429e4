import Foundation
import Shared
import TestSupport
import Testing

/// The broker's delivery limit is the last guard against a message that no consumer ever
/// settles: it goes to `botyard.dead`, and the job is dead with the reason, never lost.
@Suite("Delivery limit")
struct DeliveryLimitTests {
    @Test("a job message handed back by its consumers time after time is parked by the broker after its delivery limit, and the job is dead with the reason")
    func parkedByTheBroker() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            let id = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))
            try await fleet.waitForJob(id) { $0.state == .queued }

            // A consumer that gives the message back every time, as a worker crashing on it would.
            let connection = try await AMQPConnection.connect(to: fleet.url, name: "flaky consumer", logger: Fleet.logger)
            let channel = try await connection.openChannel()
            let queue = Topology.jobQueue(group: "g1", priority: .normal)
            var deliveries = 0
            while let delivery = try await channel.get(queue: queue) {
                deliveries += 1
                try await delivery.reject(requeue: true)
                try #require(deliveries <= Topology.deliveryLimit + 1, "the broker never parked the message")
            }
            await connection.close()
            #expect(deliveries == Topology.deliveryLimit + 1)

            let job = try await fleet.waitForJob(id, timeout: .seconds(10))
            #expect(job.state == .dead)
            #expect(job.reason == "parked by the broker: delivered \(Topology.deliveryLimit) times without an outcome")
            #expect(try await deadMessage(for: id, url: fleet.url).envelope.jobID == id)
        }
    }
}
