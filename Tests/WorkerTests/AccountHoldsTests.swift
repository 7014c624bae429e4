import Foundation
import Shared
import TestSupport
import Testing

@testable import Worker

@Suite("Account holds")
struct AccountHoldsTests {
    /// A worker's holds over a fresh gate, in `folder` (a work directory two workers may share).
    func worker(_ folder: URL, accounts: [String] = ["a", "b"]) -> (AccountHolds, AdmissionGate) {
        let gate = AdmissionGate(ledger: AdmissionLedger(slots: 10, accountLimits: ["a": 2, "b": 2]))
        return (AccountHolds(workDirectory: folder, host: "h1", accounts: accounts, gate: gate), gate)
    }

    func withFolder(_ body: (URL) async throws -> Void) async rethrows {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-holds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }

    let job = AdmissionLedger.Request(account: "a", priority: .normal)

    @Test("a hold is kept in the work directory: a worker started later sees it (in its gate too), until it is cleared")
    func persisted() async {
        await withFolder { folder in
            let (holds, gate) = worker(folder)
            holds.hold("a", reason: "cleanup failed: exit code 3")
            #expect(holds.reason(of: "a") == "cleanup failed: exit code 3" && holds.reason(of: "b") == nil)
            #expect(gate.accountLoads["a"]?.hold == .waiting && gate.accountLoads["b"]?.hold == nil)

            let (restarted, restartedGate) = worker(folder)
            #expect(restarted.all == ["a": "cleanup failed: exit code 3"])
            #expect(restartedGate.accountLoads["a"]?.hold == .waiting)
            #expect(restarted.clear("a"))
            #expect(!restarted.clear("a"))
            #expect(restartedGate.accountLoads["a"]?.hold == nil)
            #expect(worker(folder).0.all.isEmpty)
        }
    }

    @Test("a job waiting on a held account starts when the hold is cleared, whenever the clear comes")
    func clearReleasesWaitingJob() async throws {
        try await withFolder { folder in
            let (holds, gate) = worker(folder)
            holds.hold("a", reason: "cleanup failed")
            let waiting = Task { try await gate.acquire(job) }
            try await Task.sleep(for: .milliseconds(50))
            #expect(gate.admitted == 0)
            #expect(holds.clear("a"))
            try await waiting.value
            #expect(gate.admitted == 1 && gate.accountLoads["a"]?.hold == nil)
        }
    }

    @Test("a clear between noticing a hold and handing its jobs back wins: nothing is handed back, jobs start")
    func clearBeforeHandBack() async throws {
        try await withFolder { folder in
            let (holds, gate) = worker(folder)
            holds.hold("a", reason: "cleanup failed")
            // The account's server noticed the hold; the operator clears it before the server hands back.
            holds.clear("a")
            #expect(holds.handBack("a") == nil)
            #expect(gate.accountLoads["a"]?.hold == nil)
            try await gate.acquire(job)
            #expect(gate.admitted == 1)
        }
    }

    @Test("a held account that hands back refuses newcomers until the clear; then they start")
    func handBackThenClear() async throws {
        try await withFolder { folder in
            let (holds, gate) = worker(folder)
            holds.hold("a", reason: "cleanup failed")
            let waiting = Task { try await gate.acquire(job) }
            try await Task.sleep(for: .milliseconds(50))
            #expect(holds.handBack("a") == "cleanup failed")
            await #expect(throws: AdmissionGate.AccountHeld.self) { try await waiting.value }
            await #expect(throws: AdmissionGate.AccountHeld.self) { try await gate.acquire(job) }
            holds.clear("a")
            try await gate.acquire(job)
            #expect(gate.admitted == 1)
        }
    }

    @Test("a hold set after a clear holds again; a clear after it releases: the last change wins, in the gate too",
          arguments: [1, 2, 3, 4])
    func interleavings(rounds: Int) async throws {
        try await withFolder { folder in
            let (holds, gate) = worker(folder)
            // Holds (a cleanup's failure) and clears (an operator) race from two tasks; whatever the order,
            // the gate ends as the file says.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for _ in 0..<(rounds * 50) { holds.hold("a", reason: "cleanup failed") } }
                group.addTask { for _ in 0..<(rounds * 50) { holds.clear("a") } }
            }
            let onDisk = FileManager.default.fileExists(
                atPath: holds.directory.appendingPathComponent("a/hold").path)
            #expect(onDisk == (holds.reason(of: "a") != nil))
            #expect((gate.accountLoads["a"]?.hold != nil) == onDisk)
            holds.clear("a")
            try await gate.acquire(job)
        }
    }

    @Test("a standby worker on the host reads the hold file again when it takes the account over")
    func standbyReloads() async throws {
        try await withFolder { folder in
            let (serving, _) = worker(folder)
            let (standby, standbyGate) = worker(folder)
            serving.hold("a", reason: "cleanup failed")
            #expect(standby.reason(of: "a") == nil, "read only at start")
            #expect(standby.reload("a") == "cleanup failed")
            #expect(standbyGate.accountLoads["a"]?.hold == .waiting)
            // Cleared through the serving worker; the standby's memory is stale until it reloads.
            serving.clear("a")
            #expect(standby.reason(of: "a") == "cleanup failed")
            #expect(standby.reload("a") == nil)
            #expect(standbyGate.accountLoads["a"]?.hold == nil)
            try await standbyGate.acquire(job)
        }
    }

    @Test("""
        a wait for a hold's change without a timeout (an account's server consuming) ends on the hold, on \
        the clear, at once for a change that came before it, and on cancellation — and not otherwise
        """)
    func waitsForChangeWithoutTimer() async throws {
        try await withFolder { folder in
            let (holds, _) = worker(folder)
            func ends(within bound: Duration = .seconds(10), after change: () -> Void) async throws -> Bool {
                let waiting = Task { await holds.waitForChange(of: "a", timeout: nil) }
                try await Task.sleep(for: .milliseconds(20))
                change()
                return try await Self.ends(waiting, within: bound)
            }
            let onHold = try await ends { holds.hold("a", reason: "cleanup failed") }
            #expect(onHold, "a hold")
            let onClear = try await ends { holds.clear("a") }
            #expect(onClear, "a clear")
            holds.hold("a", reason: "cleanup failed")
            let onEarlierHold = try await ends {}
            #expect(onEarlierHold, "a hold that came while nobody waited")
            // Longer than the second the account's server used to wake for, for each account.
            let unchanged = try await ends(within: .milliseconds(1_500)) {}
            #expect(!unchanged, "no change: the wait has no timer")
            let cancelled = Task { await holds.waitForChange(of: "a", timeout: nil) }
            cancelled.cancel()
            let onCancel = try await Self.ends(cancelled, within: .seconds(10))
            #expect(onCancel, "cancellation")
        }
    }

    /// Whether `task` ends within `bound`; cancels it either way.
    static func ends(_ task: Task<Void, Never>, within bound: Duration) async throws -> Bool {
        defer { task.cancel() }
        let ended = Locked(false)
        let watcher = Task {
            await task.value
            ended.withLock { $0 = true }
        }
        let deadline = ContinuousClock.now + bound
        while !ended.withLock({ $0 }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        watcher.cancel()
        return ended.withLock { $0 }
    }
}
