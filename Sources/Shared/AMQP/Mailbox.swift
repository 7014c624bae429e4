import CRabbitMQ
import Foundation
import Synchronization

/// The hand-over point between async callers and a connection's own thread.
///
/// Callers append commands and poke an eventfd; the thread drains the commands between reads
/// of the socket. Once the connection is closed every command, queued or late, fails with the
/// reason it closed.
final class Mailbox: Sendable {
    struct Command: Sendable {
        let run: @Sendable (ConnectionCore) -> Void
        let fail: @Sendable (AMQPError) -> Void
    }

    private struct State {
        var commands: [Command] = []
        var closedReason: AMQPError?
        var closeWaiters: [CheckedContinuation<AMQPError, Never>] = []
    }

    private let state = Mutex(State())
    /// Readable when commands are waiting; the connection thread polls it next to the socket.
    let wakeDescriptor: Int32

    init() {
        wakeDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
    }

    deinit {
        Glibc.close(wakeDescriptor)
    }

    func submit(_ command: Command) {
        let reason: AMQPError? = state.withLock { state in
            if let reason = state.closedReason { return reason }
            state.commands.append(command)
            return nil
        }
        if let reason {
            command.fail(reason)
        } else {
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, 8)
        }
    }

    func drain() -> [Command] {
        var counter: UInt64 = 0
        _ = read(wakeDescriptor, &counter, 8)
        return state.withLock { state in
            defer { state.commands.removeAll(keepingCapacity: true) }
            return state.commands
        }
    }

    var closedReason: AMQPError? { state.withLock { $0.closedReason } }

    /// Marks the mailbox closed and fails whatever was still queued.
    func close(reason: AMQPError) {
        let (commands, waiters) = state.withLock { state -> ([Command], [CheckedContinuation<AMQPError, Never>]) in
            guard state.closedReason == nil else { return ([], []) }
            state.closedReason = reason
            defer {
                state.commands = []
                state.closeWaiters = []
            }
            return (state.commands, state.closeWaiters)
        }
        for command in commands { command.fail(reason) }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    func waitUntilClosed() async -> AMQPError {
        await withCheckedContinuation { continuation in
            let reason: AMQPError? = state.withLock { state in
                if let reason = state.closedReason { return reason }
                state.closeWaiters.append(continuation)
                return nil
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }
}
