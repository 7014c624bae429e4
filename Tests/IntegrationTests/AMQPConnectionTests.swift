import Foundation
import Logging
import Shared
import TestSupport
import Testing

/// The rabbitmq-c layer against the real broker.
@Suite("AMQP connection")
struct AMQPConnectionTests {
    let logger = Fleet.logger

    func withChannel(_ body: (AMQPConnection, AMQPChannel) async throws -> Void) async throws {
        try await TestBroker.withVirtualHost { url in
            let connection = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
            let channel = try await connection.openChannel()
            do {
                try await body(connection, channel)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    @Test("a window of confirmed publishes is consumed and acknowledged in full")
    func publishAndConsume() async throws {
        try await withChannel { connection, channel in
            try await channel.declareQueue("q", arguments: ["x-queue-type": "quorum"])
            try await channel.enableConfirms()
            let messages = (0..<300).map {
                AMQPMessage(exchange: "", routingKey: "q", body: Data("m\($0)".utf8), headers: ["n": .int(Int64($0))])
            }
            let results = try await channel.publish(messages)
            #expect(results.allSatisfy { (try? $0.get()) != nil })
            #expect(try await channel.inspectQueue("q").messageCount == 300)

            let consuming = try await connection.openChannel()
            try await consuming.setPrefetch(count: 50)
            var seen: [Int64] = []
            for try await delivery in try await consuming.consume(queue: "q") {
                seen.append(delivery.headers["n"]?.intValue ?? -1)
                try await delivery.ack()
                if seen.count == 300 { break }
            }
            #expect(seen == (0..<300).map(Int64.init))
            #expect(try await channel.inspectQueue("q").messageCount == 0)
        }
    }

    @Test("batches sent without waiting for their confirms arrive in the order sent, each with its own fates")
    func batchesInFlight() async throws {
        try await withChannel { connection, channel in
            try await channel.declareQueue("q", arguments: ["x-queue-type": "quorum"])
            try await channel.enableConfirms()
            let batches = (0..<3).map { batch in
                channel.send((0..<100).map {
                    AMQPMessage(exchange: "", routingKey: "q", body: Data(), headers: ["n": .int(Int64(batch * 100 + $0))])
                })
            }
            for batch in batches {
                let fates = try await batch.results()
                #expect(fates.count == 100 && fates.allSatisfy { (try? $0.get()) != nil })
            }
            let consuming = try await connection.openChannel()
            var seen: [Int64] = []
            for try await delivery in try await consuming.consume(queue: "q", prefetch: 300) {
                seen.append(delivery.headers["n"]?.intValue ?? -1)
                if seen.count == 300 {
                    // One ack settles every delivery before it.
                    try await delivery.ack(multiple: true)
                    break
                }
            }
            #expect(seen == (0..<300).map(Int64.init))
            await consuming.close()
            #expect(try await channel.inspectQueue("q").messageCount == 0)
        }
    }

    @Test("acks held back go out when the connection's thread next wakes, within a second, none lost")
    func heldBackAcks() async throws {
        try await withChannel { connection, channel in
            try await channel.declareQueue("held", arguments: ["x-queue-type": "quorum"])
            try await channel.enableConfirms()
            let results = try await channel.publish((0..<3).map {
                AMQPMessage(exchange: "", routingKey: "held", body: Data("m\($0)".utf8))
            })
            #expect(results.allSatisfy { (try? $0.get()) != nil })

            // One at a time: no delivery comes while an ack is held back.
            let consuming = try await connection.openChannel()
            try await consuming.setPrefetch(count: 1)
            let start = ContinuousClock.now
            var seen = 0
            for try await delivery in try await consuming.consume(queue: "held") {
                // Handed over, a delivery leaves the thread reading on, and an ack queued at once
                // may go out with that same pass; a tenth of a second later it waits on the socket.
                try await Task.sleep(for: .milliseconds(100))
                // Never enough held back to wake the thread: each goes out with its next wake.
                delivery.ackHeldBack(settling: 1, wakingAt: 100)
                seen += 1
                if seen == 3 { break }
            }
            // The broker sent the next only after the ack of the last went out, when the thread's
            // wait on the socket timed out, twice (the pauses above are 0.3 s in all).
            let elapsed = ContinuousClock.now - start
            #expect(elapsed > .milliseconds(900), "held-back acks woke the connection's thread: \(elapsed)")
            #expect(elapsed < .seconds(6))
            // The last went out too: closed after a second, the channel gives nothing back.
            try await Task.sleep(for: .milliseconds(1_500))
            await consuming.close()
            #expect(try await channel.inspectQueue("held").messageCount == 0)
        }
    }

    @Test("an ack handed over after its connection ended is reported failed at once, and the broker delivers the message again")
    func ackOnEndedConnection() async throws {
        try await TestBroker.withVirtualHost { url in
            let connection = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
            let channel = try await connection.openChannel()
            try await channel.declareQueue("acks", arguments: ["x-queue-type": "quorum"])
            try await channel.enableConfirms()
            _ = try await channel.publish([AMQPMessage(exchange: "", routingKey: "acks", body: Data("job".utf8))])
            let consuming = try await connection.openChannel()
            var delivered: AMQPDelivery?
            for try await delivery in try await consuming.consume(queue: "acks") {
                delivered = delivery
                break
            }
            let delivery = try #require(delivered)
            await connection.close()
            let failure = Locked<AMQPError?>(nil)
            delivery.ackWithoutWaiting(failed: { error in failure.withLock { $0 = error } })
            #expect(failure.withLock { $0 } != nil, "the ack's failure was not told")

            // Not acknowledged: the next connection gets the message again.
            let next = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
            let again = try await next.openChannel()
            for try await redelivery in try await again.consume(queue: "acks") {
                #expect(redelivery.body == Data("job".utf8) && redelivery.redelivered)
                try await redelivery.ack()
                break
            }
            await next.close()
        }
    }

    @Test("a batch goes out corked and is confirmed at once: nothing is left to the kernel's 200 ms cork timer")
    func corkedBatches() async throws {
        try await withChannel { _, channel in
            try await channel.declareQueue("corked", arguments: ["x-queue-type": "quorum"])
            try await channel.enableConfirms()
            var waits: [Duration] = []
            for batch in 0..<5 {
                let start = ContinuousClock.now
                let results = try await channel.publish((0..<3).map {
                    AMQPMessage(exchange: "", routingKey: "corked", body: Data("b\(batch)m\($0)".utf8))
                })
                waits.append(ContinuousClock.now - start)
                #expect(results.allSatisfy { (try? $0.get()) != nil })
            }
            // Frames held until the kernel gives up on the cork would arrive after 200 ms.
            #expect(waits.sorted()[2] < .milliseconds(150), "\(waits)")
            #expect(try await channel.inspectQueue("corked").messageCount == 15)
        }
    }

    @Test("a batch reaches the broker in a few full segments, not a segment a message")
    func batchInFullSegments() async throws {
        try await TestBroker.withVirtualHost { url in
            let proxy = try FrameDelayProxy(to: url)
            defer { proxy.stop() }
            let connection = try await AMQPConnection.connect(to: proxy.url, name: "test", logger: logger)
            let channel = try await connection.openChannel()
            try await channel.declareQueue("segments", arguments: ["x-queue-type": "quorum"])
            try await channel.enableConfirms()
            let before = proxy.dataSegmentsFromClients()
            let message = AMQPMessage(exchange: "", routingKey: "segments", body: Data(count: 100))
            let results = try await channel.publish(Array(repeating: message, count: 200))
            let segments = proxy.dataSegmentsFromClients() - before
            await connection.close()
            #expect(results.allSatisfy { (try? $0.get()) != nil })
            // Some 40 KB of frames: two segments corked; uncorked, 32–187 (one a message, less what
            // the kernel happened to put together).
            #expect(segments < 10, "\(segments) segments for 200 messages")
        }
    }

    @Test("a close asked for in the same pass as a batch goes out at once: it waits for its close-ok uncorked")
    func closeAfterACorkedBatch() async throws {
        try await TestBroker.withVirtualHost { url in
            var closings: [Duration] = []
            for _ in 0..<3 {
                let connection = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
                let channel = try await connection.openChannel()
                try await channel.declareQueue("closing", arguments: ["x-queue-type": "quorum"])
                try await channel.enableConfirms()
                let message = AMQPMessage(exchange: "", routingKey: "closing", body: Data(count: 100))
                // Asked for together, before the thread wakes for the first: the batches and the
                // close come to it in one pass, as a rule.
                _ = channel.send(Array(repeating: message, count: 100))
                _ = channel.send([message, message])
                let start = ContinuousClock.now
                await connection.close()
                closings.append(ContinuousClock.now - start)
            }
            // Sent corked, the close and its wait for the broker's close-ok would sit out the kernel's
            // 200 ms cork timer.
            #expect(closings.allSatisfy { $0 < .milliseconds(190) }, "\(closings)")
        }
    }

    @Test("a mandatory publish that matches no queue is an error, not a silent loss")
    func unroutable() async throws {
        try await withChannel { _, channel in
            try await channel.declareExchange("nowhere", type: .direct)
            try await channel.enableConfirms()
            await #expect {
                try await channel.publish(AMQPMessage(exchange: "nowhere", routingKey: "x", body: Data("lost?".utf8)))
            } throws: { ($0 as? AMQPError)?.code == .publishReturned }
        }
    }

    @Test("a broker error closes only its channel: the connection and a new channel go on")
    func channelErrorRecovery() async throws {
        try await withChannel { connection, channel in
            await #expect {
                try await channel.inspectQueue("does-not-exist")
            } throws: { error in
                let error = error as? AMQPError
                return error?.code == .channelClosed && error?.replyCode == 404
            }
            #expect(connection.isOpen)
            await #expect(throws: AMQPError.self) { try await channel.declareQueue("after-close") }
            let fresh = try await connection.openChannel()
            try await fresh.declareQueue("fresh")
            #expect(try await fresh.inspectQueue("fresh").messageCount == 0)
        }
    }

    @Test("a rejected message goes to the queue's dead-letter exchange")
    func rejectDeadLetters() async throws {
        try await withChannel { _, channel in
            try await channel.declareExchange("dlx", type: .fanout)
            try await channel.declareQueue("parked")
            try await channel.bindQueue("parked", exchange: "dlx", routingKey: "")
            try await channel.declareQueue("work", arguments: ["x-dead-letter-exchange": "dlx"])
            try await channel.enableConfirms()
            try await channel.publish(AMQPMessage(exchange: "", routingKey: "work", body: Data("poison".utf8)))
            let rejected = try #require(try await channel.get(queue: "work"))
            try await rejected.reject(requeue: false)
            // Dead-lettering happens inside the broker, a moment after the reject.
            var parked: AMQPDelivery?
            let deadline = ContinuousClock.now + .seconds(5)
            while parked == nil && ContinuousClock.now < deadline {
                parked = try await channel.get(queue: "parked")
                if parked == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let delivery = try #require(parked)
            #expect(String(decoding: delivery.body, as: UTF8.self) == "poison")
            try await delivery.ack()
        }
    }

    @Test("closing the connection ends its consumers")
    func closeEndsConsumers() async throws {
        try await TestBroker.withVirtualHost { url in
            let connection = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
            let channel = try await connection.openChannel()
            try await channel.declareQueue("q")
            let consumer = try await channel.consume(queue: "q")
            async let drained: Int = {
                var count = 0
                do { for try await _ in consumer { count += 1 } } catch {}
                return count
            }()
            try await Task.sleep(for: .milliseconds(100))
            await connection.close()
            #expect(await drained == 0)
            #expect(!connection.isOpen)
            await #expect(throws: AMQPError.self) { try await connection.openChannel() }
        }
    }

    @Test("wrong credentials are refused with a clear error")
    func badLogin() async throws {
        var url = try TestBroker.url()
        url.password = "wrong"
        await #expect {
            _ = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
        } throws: { ($0 as? AMQPError)?.code == .connectionFailed }
    }

    @Test("a consumer whose queue is deleted ends with consumerCancelled: the broker says so, the consumer never waits forever")
    func consumerCancelledByBroker() async throws {
        try await TestBroker.withVirtualHost { url in
            let connection = try await AMQPConnection.connect(to: url, name: "test", logger: logger)
            let channel = try await connection.openChannel()
            try await channel.declareQueue("doomed", arguments: ["x-queue-type": "quorum"])
            let consumer = try await channel.consume(queue: "doomed")
            try await TestBroker.management(.delete, "api/queues/\(url.virtualHost)/doomed")
            await #expect {
                for try await _ in consumer {}
            } throws: { ($0 as? AMQPError)?.code == .consumerCancelled }
            #expect(connection.isOpen)
            await connection.close()
        }
    }
}
