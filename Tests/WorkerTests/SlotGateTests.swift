import Shared
import Synchronization
import TestSupport
import Testing

@testable import Worker

@Suite("Slot gate")
struct SlotGateTests {
    @Test("a freed slot goes to the highest priority waiting, first come first served within one")
    func priorityOrder() async throws {
        let gate = SlotGate(slots: 1)
        try await gate.acquire(priority: .normal)
        let order = Locked<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, priority) in [("low", Priority.low), ("normal-1", .normal), ("high", .high), ("normal-2", .normal)] {
                group.addTask {
                    try await gate.acquire(priority: priority)
                    order.withLock { $0.append(name) }
                    gate.release()
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            gate.release()
            try await group.waitForAll()
        }
        #expect(order.withLock { $0 } == ["high", "normal-1", "normal-2", "low"])
    }

    @Test("no more than the slots run at once")
    func limit() async throws {
        let gate = SlotGate(slots: 3)
        let running = Locked((now: 0, peak: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await gate.acquire(priority: .normal)
                    running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                    try await Task.sleep(for: .milliseconds(10))
                    running.withLock { $0.now -= 1 }
                    gate.release()
                }
            }
            try await group.waitForAll()
        }
        #expect(running.withLock { $0.peak } == 3)
    }

    @Test("a waiter that is cancelled leaves the queue")
    func cancelledWaiter() async throws {
        let gate = SlotGate(slots: 1)
        try await gate.acquire(priority: .normal)
        let waiter = Task { try await gate.acquire(priority: .high) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        gate.release()
        try await gate.acquire(priority: .low)
    }
}
