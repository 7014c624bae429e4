import Foundation
import Shared
import TestSupport
import Testing

@testable import Worker

/// A worker's reports that wait for a confirm go to the broker together, and the dispatcher
/// applies each report of such a message once.
@Suite("Report batches")
struct ReportBatchTests {
    @Test("a job.batch message's reports are each applied once: a duplicate inside it changes nothing")
    func dispatcherAppliesBatch() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"]))
            let id = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "nobody-runs"))
            try await fleet.waitForJob(id) { $0.state == .queued }
            let started = JobEvent(kind: .started, jobID: id, attempt: 1, runID: "run-1", workerID: "w1", host: "h1",
                                   account: nil)
            let finished = JobEvent(kind: .finished, jobID: id, attempt: 1, runID: "run-1", workerID: "w1", host: "h1",
                                    account: nil, outcome: JobOutcome(result: .succeeded, exitCode: 0, reason: "exit 0"))

            let connection = try await AMQPConnection.connect(to: fleet.url, name: "reporter", logger: Fleet.logger)
            let channel = try await connection.openChannel()
            try await channel.enableConfirms()
            try await channel.publish(EventPublisher.message(reporting: [started, started, finished]))
            await connection.close()

            let job = try await fleet.waitForJob(id)
            #expect(job.state == .succeeded && job.exitCode == 0)
            let steps = (job.history ?? []).map(\.to)
            #expect(steps.filter { $0 == .running }.count == 1, "\(steps)")
            #expect(steps.filter { $0 == .succeeded }.count == 1, "\(steps)")
        }
    }

    @Test("60 reports published at once by one publisher reach the broker each once, in fewer messages")
    func publisherBatches() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let connection = try await AMQPConnection.connect(to: fleet.url, name: "inspector", logger: Fleet.logger)
            let channel = try await connection.openChannel()
            let queue = "report-batch-test"
            try await channel.declareQueue(queue)
            try await channel.bindQueue(queue, exchange: Topology.eventsExchange, routingKey: "job.*")

            // Reports on jobs the store does not have: the dispatcher drops them; the test's queue keeps a copy.
            let events = (1...60).map {
                JobEvent(kind: .started, jobID: 1_000_000 + Int64($0), attempt: 1, runID: "run-\($0)",
                         workerID: "w1", host: "h1", account: nil)
            }
            let publisher = EventPublisher(url: fleet.url, logger: Fleet.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for event in events { group.addTask { try await publisher.publish(event, keepTrying: { false }) } }
                try await group.waitForAll()
            }
            await publisher.close()

            var messages = 0
            var received: [String] = []
            while let delivery = try await channel.get(queue: queue) {
                messages += 1
                if delivery.routingKey == JobEvent.batchRoutingKey {
                    received += try JSONCodec.decode([JobEvent].self, from: delivery.body).map(\.eventID)
                } else {
                    received.append(try JSONCodec.decode(JobEvent.self, from: delivery.body).eventID)
                }
                try await delivery.ack()
            }
            await connection.close()
            #expect(received.sorted() == events.map(\.eventID).sorted())
            #expect(messages < events.count, "\(messages) messages for \(events.count) reports")
            print("report batches: \(events.count) reports in \(messages) messages")
        }
    }
}
