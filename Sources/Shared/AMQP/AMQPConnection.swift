import Foundation
import Logging

/// A connection to a RabbitMQ broker over rabbitmq-c.
///
/// ## A note on blocking
/// rabbitmq-c calls block and a connection must not be shared between threads, so each
/// `AMQPConnection` owns one OS thread that makes every C call for it (see ``ConnectionCore``).
/// The async methods here hand work to that thread and suspend until it answers; nothing blocks
/// Swift's cooperative pool. Use separate connections for publishing and consuming, so that a
/// slow consumer never delays confirms.
public final class AMQPConnection: Sendable {
    public let url: AMQPURL
    /// Shown as the connection name in RabbitMQ's management UI.
    public let name: String
    let mailbox: Mailbox

    private init(url: AMQPURL, name: String, mailbox: Mailbox) {
        self.url = url
        self.name = name
        self.mailbox = mailbox
    }

    /// Opens a connection and logs in.
    ///
    /// - Parameters:
    ///   - heartbeatSeconds: the heartbeat asked of the broker; a connection that hears nothing for
    ///     twice this long is declared dead by both sides.
    ///   - replyTimeout: how long the broker may take to answer a method (a declare, a consume…);
    ///     past it the connection is declared broken and ends.
    /// - Throws: ``AMQPError`` with code `connectionFailed`.
    public static func connect(
        to url: AMQPURL,
        name: String,
        heartbeatSeconds: Int = 30,
        replyTimeout: Duration = .seconds(30),
        logger: Logger
    ) async throws -> AMQPConnection {
        let mailbox = Mailbox()
        let connection = AMQPConnection(url: url, name: name, mailbox: mailbox)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                ThreadName.setCurrent(threadName(forConnection: name))
                let core: ConnectionCore
                do throws(AMQPError) {
                    core = try ConnectionCore.connect(to: url, name: name, heartbeatSeconds: heartbeatSeconds,
                                                      replyTimeout: replyTimeout, logger: logger)
                } catch {
                    mailbox.close(reason: error)
                    continuation.resume(throwing: error)
                    return
                }
                core.connection = connection
                continuation.resume()
                core.run(mailbox: mailbox, heartbeatSeconds: heartbeatSeconds)
                core.connection = nil
            }
            thread.start()
        }
        return connection
    }

    /// The name of the connection's thread: `amqp` and the last word of the connection's name
    /// (`amqp publish` for "botyard-dispatcher publish"), within the kernel's 15 bytes.
    static func threadName(forConnection name: String) -> String {
        "amqp " + (name.split(separator: " ").last.map(String.init) ?? name)
    }

    /// Opens a new channel on this connection.
    public func openChannel() async throws -> AMQPChannel {
        let channel = try await call { core, completion in core.openChannel(completion: completion) }
        return AMQPChannel(id: channel, connection: self)
    }

    /// Closes the connection; waiting publishes and consumers end with `connectionClosed`.
    public func close() async {
        _ = try? await perform { core in core.close() }
        _ = await mailbox.waitUntilClosed()
    }

    /// Returns when the connection has ended, with the reason.
    public func waitUntilClosed() async -> AMQPError {
        await mailbox.waitUntilClosed()
    }

    public var isOpen: Bool { mailbox.closedReason == nil }

    /// Runs `body` on the connection's thread.
    func perform<Value: Sendable>(
        _ body: @escaping @Sendable (ConnectionCore) throws -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            mailbox.submit(Mailbox.Command(
                run: { core in continuation.resume(with: Result { try body(core) }) },
                fail: { error in continuation.resume(throwing: error) }
            ))
        }
    }

    /// Starts `body` on the connection's thread and suspends until it completes (the broker's
    /// reply to a method, typically), while the thread goes on with other work.
    func call<Value: Sendable>(
        _ body: @escaping @Sendable (ConnectionCore, @escaping (Result<Value, AMQPError>) -> Void) -> Void
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            mailbox.submit(Mailbox.Command(
                run: { core in body(core) { continuation.resume(with: $0) } },
                fail: { error in continuation.resume(throwing: error) }
            ))
        }
    }

    /// Runs `run` on the connection's thread without waiting for it; `fail` instead when the
    /// connection has ended.
    func submit(run: @escaping @Sendable (ConnectionCore) -> Void, fail: @escaping @Sendable (AMQPError) -> Void) {
        mailbox.submit(Mailbox.Command(run: run, fail: fail))
    }

    /// ``submit(run:fail:)`` without waking the thread for it, unless the held-back work queued
    /// since it last woke weighs `limit` or more (``Mailbox/submitHeldBack(_:weight:wakingAt:)``).
    func submitHeldBack(weight: Int, wakingAt limit: Int, run: @escaping @Sendable (ConnectionCore) -> Void,
                        fail: @escaping @Sendable (AMQPError) -> Void) {
        mailbox.submitHeldBack(Mailbox.Command(run: run, fail: fail), weight: weight, wakingAt: limit)
    }
}
