import Foundation
import Testing

@testable import Shared

@Suite("Thread names the kernel shows")
struct ThreadNameTests {
    /// The name a new thread has for the kernel after `name` is set on it.
    static func nameOnANewThread(_ name: String) async -> String {
        await withCheckedContinuation { continuation in
            Thread {
                ThreadName.setCurrent(name)
                continuation.resume(returning: ThreadName.current)
            }.start()
        }
    }

    @Test("a thread names itself, cut to the kernel's 15 bytes")
    func setsAndCuts() async {
        #expect(await Self.nameOnANewThread("amqp publish") == "amqp publish")
        #expect(await Self.nameOnANewThread("amqp credentials") == "amqp credential")
    }

    @Test("a connection's thread is named `amqp` and the last word of the connection's name")
    func connectionThreads() {
        #expect(AMQPConnection.threadName(forConnection: "botyard-dispatcher publish") == "amqp publish")
        #expect(AMQPConnection.threadName(forConnection: "botyard-worker events") == "amqp events")
        #expect(AMQPConnection.threadName(forConnection: "test") == "amqp test")
    }
}
