import Foundation
import Synchronization
import Testing

@testable import Shared

/// The hand-over between callers and a connection's thread, without a connection: what wakes the
/// thread is whether its eventfd is readable.
@Suite("A connection's mailbox")
struct MailboxTests {
    /// Whether the thread, waiting on the eventfd, would wake now.
    static func wakes(_ mailbox: Mailbox) -> Bool {
        var descriptor = pollfd(fd: mailbox.wakeDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 1
    }

    /// What the test's commands record when they fail.
    final class CommandLog: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    /// A command that records its name and the error when it fails. (Running one needs a
    /// connection's core: the tests tell the commands apart by failing them.)
    static func command(_ name: String, into log: CommandLog) -> Mailbox.Command {
        Mailbox.Command(run: { _ in }, fail: { error in
            log.lines.withLock { $0.append("\(name) failed: \(error.code)") }
        })
    }

    /// The names of `commands`, in their order.
    static func names(_ commands: [Mailbox.Command], log: CommandLog) -> [String] {
        log.lines.withLock { $0 = [] }
        for command in commands { command.fail(AMQPError(.connectionClosed, operation: "test", message: "")) }
        return log.all.map { String($0.prefix { $0 != " " }) }
    }

    @Test("a command wakes the thread")
    func commandWakes() {
        let mailbox = Mailbox()
        #expect(!Self.wakes(mailbox))
        mailbox.submit(Self.command("a", into: CommandLog()))
        #expect(Self.wakes(mailbox))
        #expect(mailbox.drain().count == 1)
        #expect(!Self.wakes(mailbox), "draining takes the wake")
    }

    @Test("held-back commands wake nobody until together they weigh the limit, and run in the order queued")
    func heldBackUntilTheLimit() {
        let mailbox = Mailbox()
        let log = CommandLog()
        mailbox.submitHeldBack(Self.command("a", into: log), weight: 1, wakingAt: 5)
        mailbox.submitHeldBack(Self.command("b", into: log), weight: 3, wakingAt: 5)
        #expect(!Self.wakes(mailbox))
        mailbox.submitHeldBack(Self.command("c", into: log), weight: 1, wakingAt: 5)
        #expect(Self.wakes(mailbox))
        #expect(Self.names(mailbox.drain(), log: log) == ["a", "b", "c"])
    }

    @Test("a command that wakes the thread takes the held-back ones with it, and their weight starts again")
    func wakeTakesTheHeldBack() {
        let mailbox = Mailbox()
        let log = CommandLog()
        mailbox.submitHeldBack(Self.command("ack1", into: log), weight: 4, wakingAt: 5)
        mailbox.submit(Self.command("publish", into: log))
        #expect(Self.wakes(mailbox))
        #expect(Self.names(mailbox.drain(), log: log) == ["ack1", "publish"])
        mailbox.submitHeldBack(Self.command("ack2", into: log), weight: 4, wakingAt: 5)
        #expect(!Self.wakes(mailbox), "the weight counts from the last drain, not from the first ack")
        // Also when the thread drains for a reason of its own (its poll's timeout, the socket).
        #expect(Self.names(mailbox.drain(), log: log) == ["ack2"])
        mailbox.submitHeldBack(Self.command("ack3", into: log), weight: 4, wakingAt: 5)
        #expect(!Self.wakes(mailbox))
    }

    @Test("a held-back command on a closed connection fails at once with the reason it closed")
    func heldBackOnClosed() {
        let mailbox = Mailbox()
        let log = CommandLog()
        mailbox.submitHeldBack(Self.command("queued", into: log), weight: 1, wakingAt: 5)
        mailbox.close(reason: AMQPError(.connectionClosed, operation: "test", message: "gone"))
        #expect(log.all == ["queued failed: connectionClosed"], "what was queued fails with the close")
        mailbox.submitHeldBack(Self.command("late", into: log), weight: 1, wakingAt: 5)
        #expect(log.all == ["queued failed: connectionClosed", "late failed: connectionClosed"])
        #expect(mailbox.drain().isEmpty)
    }
}
