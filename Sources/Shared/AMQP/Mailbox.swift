import CRabbitMQ
import Foundation
import Synchronization

/// The hand-over point between async callers and a connection's own thread.
///
/// Callers append commands and poke an eventfd; the thread drains the commands between reads
/// of the socket. A command that may wait (``submitHeldBack(_:weight:wakingAt:)``) pokes nothing
/// until enough of them wait, and goes with whatever wakes the thread first. Once the connection
/// is closed every command, queued or late, fails with the reason it closed.
final class Mailbox: Sendable {
    struct Command: Sendable {
        let run: @Sendable (ConnectionCore) -> Void
        let fail: @Sendable (AMQPError) -> Void
    }

    private struct State {
        var commands: [Command] = []
        /// The weight of the held-back commands queued since the thread last drained or was poked.
        var heldBackWeight = 0
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

    /// Queues `command` and wakes the thread for it.
    func submit(_ command: Command) {
        submit(command) { state in
            state.heldBackWeight = 0
            return true
        }
    }

    /// Queues `command` without waking the thread for it, unless the held-back commands queued
    /// since the thread last woke weigh `limit` or more with it: it runs when the thread wakes for
    /// anything else (the socket, another command, its poll's timeout), in the order it was queued.
    /// For what may wait a moment but must not pile up: acknowledgements, each weighing the
    /// deliveries it settles.
    func submitHeldBack(_ command: Command, weight: Int, wakingAt limit: Int) {
        submit(command) { state in
            state.heldBackWeight += weight
            guard state.heldBackWeight >= limit else { return false }
            state.heldBackWeight = 0
            return true
        }
    }

    private func submit(_ command: Command, wakes: (inout State) -> Bool) {
        let outcome: Result<Bool, AMQPError> = state.withLock { state in
            if let reason = state.closedReason { return .failure(reason) }
            state.commands.append(command)
            return .success(wakes(&state))
        }
        switch outcome {
        case .failure(let reason):
            command.fail(reason)
        case .success(true):
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, 8)
        case .success(false):
            break
        }
    }

    func drain() -> [Command] {
        var counter: UInt64 = 0
        _ = read(wakeDescriptor, &counter, 8)
        return state.withLock { state in
            defer {
                state.commands.removeAll(keepingCapacity: true)
                state.heldBackWeight = 0
            }
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
