import Foundation
import Logging
import Shared
import Testing

/// One connection carries many channels (a worker's accounts each have one): what happens on one
/// channel must neither act on nor hold up another.
@Suite("AMQP channels of one connection")
struct AMQPChannelIsolationTests {
    @Test("a late reject of a delivery whose channel failed never acts on the next channel that got the same number")
    func lateRejectAfterChannelFailure() async throws {
        try await TestBroker.withVirtualHost { url in
            try await withConnection(to: url) { connection in
                let setup = try await connection.openChannel()
                try await setup.enableConfirms()
                for queue in ["first", "second"] {
                    try await setup.declareQueue(queue)
                    try await setup.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data(queue.utf8)))
                }

                let failing = try await connection.openChannel()
                let early = try await firstDelivery(of: failing.consume(queue: "first"))
                // A 404 closes the channel; its unacknowledged delivery goes back to its queue.
                await #expect(throws: AMQPError.self) { try await failing.inspectQueue("missing") }
                let next = try await connection.openChannel()
                #expect(next.number == failing.number)
                let current = try await firstDelivery(of: next.consume(queue: "second"))
                #expect(current.deliveryTag == early.deliveryTag)

                await #expect {
                    try await early.reject(requeue: false)
                } throws: { ($0 as? AMQPError)?.code == .channelClosed }
                // The new channel's delivery is its own to acknowledge, and the channel lives on.
                try await current.ack()
                #expect(try await next.inspectQueue("second").messageCount == 0)
                #expect(try await setup.inspectQueue("first").messageCount == 1)
            }
        }
    }

    @Test("a method waiting for the broker's answer on one channel holds up neither the deliveries nor the acks of another")
    func slowAnswerDoesNotStallOtherChannels() async throws {
        try await TestBroker.withVirtualHost { url in
            let proxy = try FrameDelayProxy(to: url)
            defer { proxy.stop() }
            try await withConnection(to: proxy.url) { connection in
                let consuming = try await connection.openChannel()
                try await consuming.declareQueue("work")
                let consumer = try await consuming.consume(queue: "work")
                let slow = try await connection.openChannel()
                proxy.delay(channel: slow.number, by: .seconds(3))

                let clock = ContinuousClock()
                let start = clock.now
                let declare = Task {
                    try await slow.declareQueue("slow-to-answer")
                    return start.duration(to: clock.now)
                }
                try await Task.sleep(for: .milliseconds(200))  // the declare is out; its answer is held back
                try await withConnection(to: url, name: "publisher") { publisher in
                    let publishing = try await publisher.openChannel()
                    try await publishing.enableConfirms()
                    try await publishing.publish(AMQPMessage(exchange: "", routingKey: "work", body: Data("job".utf8)))
                }

                let delivery = try await firstDelivery(of: consumer)
                try await delivery.ack()
                #expect(start.duration(to: clock.now) < .seconds(2))
                // The proxy did hold the answer back all along.
                #expect(try await declare.value >= .seconds(3))
            }
        }
    }

    @Test("a method the broker never answers ends the connection at the reply timeout, with an error that says so")
    func unansweredMethodEndsConnection() async throws {
        try await TestBroker.withVirtualHost { url in
            let proxy = try FrameDelayProxy(to: url)
            defer { proxy.stop() }
            try await withConnection(to: proxy.url, replyTimeout: .seconds(1)) { connection in
                let channel = try await connection.openChannel()
                proxy.delay(channel: channel.number, by: .seconds(60))
                let clock = ContinuousClock()
                let start = clock.now
                await #expect {
                    try await channel.declareQueue("never-answered")
                } throws: { error in
                    let error = error as? AMQPError
                    return error?.code == .connectionClosed && error?.message.contains("did not answer") == true
                }
                // Well before the 60 s the answer is held (a loaded run of the suite has stretched the
                // 1 s to 8 s: the connection's thread waits for a core like every other).
                #expect(start.duration(to: clock.now) < .seconds(30))
                let reason = await connection.waitUntilClosed()
                #expect(reason.operation == "queue.declare never-answered")
            }
        }
    }

    private func firstDelivery(of consumer: AMQPConsumer) async throws -> AMQPDelivery {
        var deliveries = consumer.makeAsyncIterator()
        guard let delivery = try await deliveries.next() else {
            throw AMQPError(.consumerCancelled, operation: "test", message: "the consumer ended without a delivery")
        }
        return delivery
    }
}
