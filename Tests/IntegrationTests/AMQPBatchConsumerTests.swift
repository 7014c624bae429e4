import Foundation
import Logging
import Shared
import Testing

/// A consumer whose deliveries one task takes in batches, against the real broker.
@Suite("AMQP batch consumer")
struct AMQPBatchConsumerTests {
    let logger = Fleet.logger

    func withQueue(of count: Int, _ body: (AMQPConnection, AMQPChannel) async throws -> Void) async throws {
        try await TestBroker.withVirtualHost { url in
            let connection = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
            do {
                let channel = try await connection.openChannel()
                try await channel.declareQueue("q", arguments: ["x-queue-type": "quorum"])
                try await channel.enableConfirms()
                let results = try await channel.publish((0..<count).map {
                    AMQPMessage(exchange: "", routingKey: "q", body: Data(), headers: ["n": .int(Int64($0))])
                })
                #expect(results.allSatisfy { (try? $0.get()) != nil })
                try await body(connection, channel)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    /// Waits until the broker has handed all but `count` of the queue's messages to its consumer,
    /// and a little longer, for the consumer's connection to read them off the socket.
    func waitUntilReady(_ count: Int, in channel: AMQPChannel) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await channel.inspectQueue("q").messageCount != count {
            guard ContinuousClock.now < deadline else {
                Issue.record("the broker never had \(count) messages ready")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(200))
    }

    @Test("deliveries that arrived while nobody took them come in batches of the limit, in order; one ack settles them")
    func batchesInOrder() async throws {
        try await withQueue(of: 300) { connection, channel in
            let consuming = try await connection.openChannel()
            let consumer = try await consuming.consumeInBatches(queue: "q", prefetch: 300)
            try await waitUntilReady(0, in: channel)
            var batches: [[AMQPDelivery]] = []
            while batches.joined().count < 300 {
                batches.append(try await consumer.next(upTo: 100))
            }
            // What had arrived comes together, never more than the limit at once.
            #expect(batches.first?.count == 100 && batches.allSatisfy { $0.count <= 100 })
            #expect(batches.joined().map { $0.headers["n"]?.intValue ?? -1 } == (0..<300).map(Int64.init))
            // Not waited for, yet settled before the channel's close, which comes after it in the connection's line.
            batches.last?.last?.ackWithoutWaiting(multiple: true)
            await consuming.close()
            #expect(try await channel.inspectQueue("q").messageCount == 0)
        }
    }

    @Test("a waiting taker is woken by the next delivery")
    func wokenByDelivery() async throws {
        try await withQueue(of: 0) { connection, channel in
            let consumer = try await channel.consumeInBatches(queue: "q")
            async let taken = consumer.next(upTo: 10)
            try await Task.sleep(for: .milliseconds(100))
            _ = try await channel.publish([AMQPMessage(exchange: "", routingKey: "q", body: Data("late".utf8))])
            let batch = try await taken
            #expect(batch.map { String(decoding: $0.body, as: UTF8.self) } == ["late"])
            try await batch[0].ack()
        }
    }

    @Test("a cancelled consumer hands over what it had, then an empty batch; the rest stays in the queue")
    func cancelEndsWithEmptyBatch() async throws {
        try await withQueue(of: 20) { connection, channel in
            let consuming = try await connection.openChannel()
            let consumer = try await consuming.consumeInBatches(queue: "q", prefetch: 5)
            try await waitUntilReady(15, in: channel)
            try await consumer.cancel()
            let held = try await consumer.next(upTo: 100)
            #expect(held.map { $0.headers["n"]?.intValue ?? -1 } == [0, 1, 2, 3, 4])
            #expect(try await consumer.next(upTo: 100).isEmpty)
            held.last?.ackWithoutWaiting(multiple: true)
            await consuming.close()
            #expect(try await channel.inspectQueue("q").messageCount == 15)
        }
    }

    /// Starts a taker that waits on `consumer`, ends its wait by `end`, and expects `code`.
    func expectWaitingTaker(of consumer: AMQPBatchConsumer, toLearn code: AMQPError.Code,
                            when end: () async throws -> Void) async throws {
        let taker = Task { try await consumer.next(upTo: 10) }
        try await Task.sleep(for: .milliseconds(100))
        try await end()
        await #expect { try await taker.value } throws: { ($0 as? AMQPError)?.code == code }
    }

    @Test("a waiting taker learns consumerCancelled when its queue goes, connectionClosed when the connection does")
    func endsAreErrors() async throws {
        try await withQueue(of: 0) { connection, channel in
            try await expectWaitingTaker(of: channel.consumeInBatches(queue: "q"), toLearn: .consumerCancelled) {
                try await TestBroker.management(.delete, "api/queues/\(channel.connection.url.virtualHost)/q")
            }
            try await channel.declareQueue("other")
            try await expectWaitingTaker(of: channel.consumeInBatches(queue: "other"), toLearn: .connectionClosed) {
                await connection.close()
            }
        }
    }

    @Test("a taker's task cancelled while it waits stops waiting")
    func takerCancelled() async throws {
        try await withQueue(of: 0) { _, channel in
            let consumer = try await channel.consumeInBatches(queue: "q")
            let taker = Task { try await consumer.next(upTo: 10) }
            try await Task.sleep(for: .milliseconds(100))
            taker.cancel()
            await #expect(throws: CancellationError.self) { try await taker.value }
        }
    }
}
