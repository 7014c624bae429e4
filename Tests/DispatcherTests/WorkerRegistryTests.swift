import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Worker registry")
struct WorkerRegistryTests {
    @Test("a worker is active while it beats, stopping when it says so, lost after three silent intervals")
    func states() async throws {
        try await withTemporaryStore { store, _ in
            let start = Date()
            let beat = WorkerHeartbeat(workerID: "w1", group: "g1", host: "h1",
                                       accounts: [AccountStatus(name: "robot1", limit: 2, running: 1)], slots: 8,
                                       running: 3, intervalSeconds: 5)
            _ = try store.apply([], heartbeats: [beat], random: { 0 }, at: start)
            let seen = try #require(try store.workers(at: start.addingTimeInterval(14)).first)
            #expect(seen.state == .active && seen.slots == 8 && seen.running == 3 && seen.accounts.map(\.name) == ["robot1"])
            #expect(try store.workers(at: start.addingTimeInterval(16)).first?.state == .lost)

            var leaving = beat
            leaving.stopping = true
            _ = try store.apply([], heartbeats: [leaving], random: { 0 }, at: start.addingTimeInterval(20))
            let stopping = try #require(try store.workers(at: start.addingTimeInterval(21)).first)
            #expect(stopping.state == .stopping)
            #expect(abs(stopping.firstSeen.timeIntervalSince(start)) < 0.001)  // stored to the millisecond
        }
    }
}
