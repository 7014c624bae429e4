import Foundation
import GRDB
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("A full disk")
struct FullDiskTests {
    @Test("with the store out of space, submissions are answered 503 store_unavailable and leave nothing half-written; with the store refusing writes, a worker's report waits in the broker; all catches up when writes go through again")
    func storeOutOfSpace() async throws {
        try await Fleet.run(workers: 1) { fleet in
            try await fleet.register(RobotQueueTests.hold(fleet.folder))
            let held = try await fleet.submit(SubmitJobRequest(bot: "hold", group: "g1"))
            try await fleet.waitForJob(held) { $0.state == .running }
            let before = try fleet.store.jobCounts().values.reduce(0, +)

            try fleet.store.simulateFullDisk(true)
            var accepted = 0
            var statuses: [Int: Int] = [:]
            for _ in 0..<200 {
                let response = try await fleet.api.send(.post, "/v1/jobs", #"{"bot": "hold", "group": "g1"}"#)
                statuses[Int(response.status.code), default: 0] += 1
                if response.status == .created { accepted += 1 }
                if response.status == .serviceUnavailable {
                    #expect(String(buffer: response.body).contains(#""code":"store_unavailable""#))
                }
            }
            #expect(Set(statuses.keys).isSubset(of: [201, 503]), "answers: \(statuses)")
            #expect(statuses[503, default: 0] > 0, "the store never ran out of space: \(statuses)")

            // A full disk may still take a report that fits in the pages there are; a store gone
            // read-only takes none. The held bot ends meanwhile: its job stays running in the store.
            try fleet.store.simulateFullDisk(false)
            try fleet.store.simulateReadOnlyStore(true)
            let refused = try await fleet.api.send(.post, "/v1/jobs", #"{"bot": "hold", "group": "g1"}"#)
            #expect(refused.status == .serviceUnavailable
                        && String(buffer: refused.body).contains(#""code":"store_unavailable""#))
            FileManager.default.createFile(atPath: fleet.folder.appendingPathComponent("go").path, contents: nil)
            try await Task.sleep(for: .seconds(3))
            #expect(try await fleet.job(held).state == .running)
            try await withConnection(to: fleet.url) { connection in
                let channel = try await connection.openChannel()
                #expect(try await channel.inspectQueue(Topology.deadQueue).messageCount == 0)
            }

            try fleet.store.simulateReadOnlyStore(false)
            #expect(try await fleet.waitForJob(held).state == .succeeded)
            // Every job the API accepted is there, whole: each with its first history entry; no other.
            #expect(try fleet.store.jobCounts().values.reduce(0, +) == before + accepted)
            let withoutHistory = try await fleet.store.database.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE id NOT IN (SELECT jobID FROM job_history)")
            }
            #expect(withoutHistory == 0)
            let response = try await fleet.api.send(.post, "/v1/jobs", #"{"bot": "hold", "group": "g1"}"#)
            #expect(response.status == .created)
        }
    }
}
