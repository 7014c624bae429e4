import Shared
import Synchronization

/// Answers to credential requests, matched to the runs waiting for them by request id. An answer
/// may arrive before its run waits for it (it is kept), or after it gave up (it is dropped).
final class CredentialAnswers: Sendable {
    private struct State {
        /// Requests sent and not given up: answers to others are dropped.
        var expected: Set<String> = []
        var arrived: [String: CredentialReply] = [:]
        var waiting: [String: CheckedContinuation<CredentialReply?, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Call before the request goes out.
    func expect(_ requestID: String) {
        state.withLock { _ = $0.expected.insert(requestID) }
    }

    func deliver(_ reply: CredentialReply) {
        let waiter = state.withLock { state -> CheckedContinuation<CredentialReply?, Never>? in
            guard state.expected.contains(reply.requestID) else { return nil }
            if let waiter = state.waiting.removeValue(forKey: reply.requestID) {
                state.expected.remove(reply.requestID)
                return waiter
            }
            state.arrived[reply.requestID] = reply
            return nil
        }
        waiter?.resume(returning: reply)
    }

    /// The answer to `requestID`, or nil when none came within `timeout`; the request is done with
    /// either way.
    func wait(for requestID: String, timeout: Duration) async -> CredentialReply? {
        await withTaskGroup(of: CredentialReply?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let arrived = self.state.withLock { state -> CredentialReply?? in
                        guard state.expected.contains(requestID) else { return .some(nil) }
                        if let reply = state.arrived.removeValue(forKey: requestID) {
                            state.expected.remove(requestID)
                            return .some(reply)
                        }
                        state.waiting[requestID] = continuation
                        return .none
                    }
                    if let arrived { continuation.resume(returning: arrived) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            forget(requestID)
            group.cancelAll()
            return first
        }
    }

    /// Gives up on `requestID`: a run still waiting for it gets nil.
    func forget(_ requestID: String) {
        let waiter = state.withLock { state in
            state.expected.remove(requestID)
            state.arrived[requestID] = nil
            return state.waiting.removeValue(forKey: requestID)
        }
        waiter?.resume(returning: nil)
    }
}
