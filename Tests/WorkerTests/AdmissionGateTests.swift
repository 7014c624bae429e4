import Shared
import TestSupport
import Testing

@testable import Worker

@Suite("Admission gate")
struct AdmissionGateTests {
    @Test("tasks wait for their account's limit and run when a slot frees")
    func limit() async throws {
        let gate = AdmissionGate(ledger: AdmissionLedger(slots: 10, accountLimits: ["a": 3]))
        let running = Locked((now: 0, peak: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let request = AdmissionLedger.Request(account: "a", priority: .normal)
                    try await gate.acquire(request)
                    running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                    try await Task.sleep(for: .milliseconds(10))
                    running.withLock { $0.now -= 1 }
                    gate.release(request)
                }
            }
            try await group.waitForAll()
        }
        #expect(running.withLock { $0.peak } == 3)
    }

    @Test("a waiter that is cancelled leaves the queue")
    func cancelledWaiter() async throws {
        let gate = AdmissionGate(ledger: AdmissionLedger(slots: 1, accountLimits: ["a": 1]))
        let first = AdmissionLedger.Request(account: "a", priority: .normal)
        try await gate.acquire(first)
        let waiter = Task { try await gate.acquire(AdmissionLedger.Request(account: "a", priority: .high)) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        gate.release(first)
        try await gate.acquire(AdmissionLedger.Request(account: "a", priority: .low))
    }
}
