import Foundation
import Shared
import TestSupport
import Testing

@testable import Dispatcher

/// The relay publishes each stored message once, while the deletion of confirmed rows rides in
/// later commits.
@Suite("Outbox relay")
struct OutboxRelayTests {
    @Test("300 jobs submitted at once are each published once, also after the relay went over the outbox again")
    func eachMessagePublishedOnce() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"]))
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<300 {
                    group.addTask { try await fleet.submit(SubmitJobRequest(bot: "quick", group: "nobody-runs")) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(ids.count == 300)
            try await waitUntil(timeout: .seconds(30)) { try fleet.store.jobCounts()[.queued] == 300 }
            #expect(try fleet.store.outboxCount() == 0)
            // Idle, the relay reads the outbox from its oldest row every second: nothing goes out twice.
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(try await Self.messages(inQueuesOf: "nobody-runs", url: fleet.url) == 300)
        }
    }

    /// Messages waiting in every job queue of `group`.
    static func messages(inQueuesOf group: String, url: AMQPURL) async throws -> Int {
        let connection = try await AMQPConnection.connect(to: url, name: "inspector", logger: Fleet.logger)
        let channel = try await connection.openChannel()
        var total = 0
        for priority in Priority.allCases {
            for lane in Topology.Lane.allCases {
                total += try await channel.inspectQueue(Topology.jobQueue(group: group, priority: priority, lane: lane))
                    .messageCount
            }
        }
        await connection.close()
        return total
    }
}
