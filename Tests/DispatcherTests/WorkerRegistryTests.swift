import Foundation
import GRDB
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
            _ = try await store.apply([], heartbeats: [beat], random: { 0 }, at: start)
            let seen = try #require(try await store.workers(at: start.addingTimeInterval(14)).first)
            #expect(seen.state == .active && seen.slots == 8 && seen.running == 3 && seen.accounts.map(\.name) == ["robot1"])
            #expect(try await store.workers(at: start.addingTimeInterval(16)).first?.state == .lost)

            var leaving = beat
            leaving.stopping = true
            _ = try await store.apply([], heartbeats: [leaving], random: { 0 }, at: start.addingTimeInterval(20))
            let stopping = try #require(try await store.workers(at: start.addingTimeInterval(21)).first)
            #expect(stopping.state == .stopping)
            #expect(abs(stopping.firstSeen.timeIntervalSince(start)) < 0.001)  // stored to the millisecond
        }
    }

    @Test("a worker's accounts read as last written, also when another connection changed their text")
    func accountsReadFresh() async throws {
        try await withTemporaryStore { store, path in
            let now = Date()
            var beat = WorkerHeartbeat(workerID: "w-fresh", group: "g1", host: "h1",
                                       accounts: [AccountStatus(name: "robot1", limit: 1)], slots: 1, running: 0,
                                       intervalSeconds: 5)
            _ = try await store.apply([], heartbeats: [beat], random: { 0 }, at: now)
            beat.accounts[0].running = 1
            _ = try await store.apply([], heartbeats: [beat], random: { 0 }, at: now)
            #expect(try await store.workers(at: now).first?.accounts.first?.running == 1)

            // Another process (an older dispatcher, by hand) writes the row: its text is read again.
            let other = try DatabaseQueue(path: path)
            try await other.write { db in
                try db.execute(sql: """
                    UPDATE workers
                    SET accounts = '[{"uiRunning":true,"served":false,"running":0,"name":"robot2","limit":3}]',
                        lastSeen = ?
                    WHERE workerID = 'w-fresh'
                    """, arguments: ["2026-12-03 10:00:00.000"])
            }
            let read = try #require(try await store.workers(at: now).first)
            #expect(read.accounts == [AccountStatus(name: "robot2", limit: 3, uiRunning: true, served: false)])
            #expect(read.lastSeen == Date(timeIntervalSince1970: 1_796_292_000))
        }
    }
}
