import Foundation
import Logging
import Shared
import Synchronization
import Testing

/// A consumer whose deliveries a function takes on the connection's own thread, against the real broker.
@Suite("AMQP callback consumer")
struct AMQPCallbackConsumerTests {
    let logger = Fleet.logger

    /// The bursts a consumer's function was handed, in order.
    final class Bursts: Sendable {
        private let bursts = Mutex<[[AMQPDelivery]]>([])

        func receive(_ burst: [AMQPDelivery]) { bursts.withLock { $0.append(burst) } }

        var all: [[AMQPDelivery]] { bursts.withLock { $0 } }

        /// The `n` header of every delivery, in the order handed over.
        var numbers: [Int64] { all.joined().map { $0.headers["n"]?.intValue ?? -1 } }

        /// Waits until `count` deliveries were handed over (10 s at most).
        func waitFor(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while all.joined().count < count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

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

    @Test("deliveries read together are handed over together, in order; the function's own ack settles them")
    func burstsInOrder() async throws {
        try await withQueue(of: 600) { connection, channel in
            let consuming = try await connection.openChannel()
            let bursts = Bursts()
            let acknowledged = Mutex(0)
            _ = try await consuming.consume(queue: "q", prefetch: 600) { burst in
                // Acknowledged from the connection's own thread, without waiting, and counted before
                // the burst is: the test reads the count as soon as it has seen every delivery.
                if let last = burst.last, last.headers["n"]?.intValue == 599 {
                    last.ackWithoutWaiting(multiple: true)
                    acknowledged.withLock { $0 += 1 }
                }
                bursts.receive(burst)
            }
            try await bursts.waitFor(600)
            #expect(bursts.numbers == (0..<600).map(Int64.init))
            // What arrived together went over together, never more than 256 at once.
            #expect(bursts.all.count < 300 && bursts.all.allSatisfy { $0.count <= 256 })
            #expect(acknowledged.withLock { $0 } == 1)
            await consuming.close()
            #expect(try await channel.inspectQueue("q").messageCount == 0)
        }
    }

    @Test("a delivery that comes later is handed over when it comes")
    func laterDelivery() async throws {
        try await withQueue(of: 0) { _, channel in
            let bursts = Bursts()
            _ = try await channel.consume(queue: "q", receive: bursts.receive)
            try await Task.sleep(for: .milliseconds(100))
            _ = try await channel.publish([AMQPMessage(exchange: "", routingKey: "q", body: Data("late".utf8))])
            try await bursts.waitFor(1)
            #expect(bursts.all.joined().map { String(decoding: $0.body, as: UTF8.self) } == ["late"])
            try await bursts.all[0][0].ack()
        }
    }

    @Test("a cancelled consumer hands over what it had, then its end comes; the rest stays in the queue")
    func cancelEnds() async throws {
        try await withQueue(of: 20) { connection, channel in
            let consuming = try await connection.openChannel()
            let bursts = Bursts()
            let consumer = try await consuming.consume(queue: "q", prefetch: 5, receive: bursts.receive)
            try await waitUntilReady(15, in: channel)
            try await consumer.cancel()
            try await consumer.ended()
            #expect(bursts.numbers == [0, 1, 2, 3, 4])
            bursts.all.last?.last?.ackWithoutWaiting(multiple: true)
            await consuming.close()
            #expect(try await channel.inspectQueue("q").messageCount == 15)
        }
    }

    /// Waits for `consumer`'s end in a task, brings it about by `end`, and expects `code`.
    func expectEnd(of consumer: AMQPCallbackConsumer, toBe code: AMQPError.Code,
                   when end: () async throws -> Void) async throws {
        let waiter = Task { try await consumer.ended() }
        try await Task.sleep(for: .milliseconds(100))
        try await end()
        await #expect { try await waiter.value } throws: { ($0 as? AMQPError)?.code == code }
    }

    @Test("the end is consumerCancelled when its queue goes, connectionClosed when the connection does")
    func endsAreErrors() async throws {
        try await withQueue(of: 0) { connection, channel in
            try await expectEnd(of: channel.consume(queue: "q", receive: { _ in }), toBe: .consumerCancelled) {
                try await TestBroker.management(.delete, "api/queues/\(channel.connection.url.virtualHost)/q")
            }
            try await channel.declareQueue("other")
            try await expectEnd(of: channel.consume(queue: "other", receive: { _ in }), toBe: .connectionClosed) {
                await connection.close()
            }
        }
    }

    @Test("a task waiting for the end stops waiting when it is cancelled")
    func waiterCancelled() async throws {
        try await withQueue(of: 0) { _, channel in
            let consumer = try await channel.consume(queue: "q", receive: { _ in })
            let waiter = Task { try await consumer.ended() }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
        }
    }
}
