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
            let before = try await fleet.store.jobCounts().values.reduce(0, +)

            try await fleet.store.simulateFullDisk(true)
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
            try await fleet.store.simulateFullDisk(false)
            try await fleet.store.simulateReadOnlyStore(true)
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

            try await fleet.store.simulateReadOnlyStore(false)
            #expect(try await fleet.waitForJob(held).state == .succeeded)
            // Every job the API accepted is there, whole: each with its first history entry; no other.
            #expect(try await fleet.store.jobCounts().values.reduce(0, +) == before + accepted)
            let withoutHistory = try await fleet.store.database.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE id NOT IN (SELECT jobID FROM job_history)")
            }
            #expect(withoutHistory == 0)
            let response = try await fleet.api.send(.post, "/v1/jobs", #"{"bot": "hold", "group": "g1"}"#)
            #expect(response.status == .created)
        }
    }

    @Test("""
        reports the store refused stay with the dispatcher, in their order: none is delivered twice, and once the \
        store takes writes again each job's start is applied before its end
        """)
    func refusedReportsKeepTheirOrder() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            var ids: [Int64] = []
            for _ in 0..<10 { ids.append(try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))) }
            for id in ids { try await fleet.waitForJob(id) { $0.state == .queued } }

            try await fleet.store.simulateReadOnlyStore(true)
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("refused", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:4"]))
                // The worker runs every job meanwhile; the store takes none of its reports.
                try await Task.sleep(for: .seconds(4))
                for id in ids { #expect(try await fleet.job(id).state == .queued) }

                try await fleet.store.simulateReadOnlyStore(false)
                for id in ids {
                    let job = try await fleet.waitForJob(id)
                    #expect(job.state == .succeeded)
                    #expect((job.history ?? []).map(\.to) == [.pending, .queued, .running, .succeeded],
                            "\((job.history ?? []).map(\.reason))")
                }
            }
            // Handed back to the queue, they would have come again after later ones. The broker's
            // figures are gathered every 5 s: read once they show the reports all acknowledged.
            var redelivered: Int?
            let deadline = ContinuousClock.now + .seconds(20)
            while redelivered == nil, ContinuousClock.now < deadline {
                let data = try await TestBroker.management(
                    .get, "api/queues/\(fleet.url.virtualHost)/\(Topology.dispatcherEventsQueue)")
                let queue = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                let stats = queue?["message_stats"] as? [String: Any] ?? [:]
                if stats["ack"] as? Int ?? 0 > 0, queue?["messages"] as? Int == 0 {
                    redelivered = stats["redeliver"] as? Int ?? 0
                } else {
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            #expect(redelivered == 0)
        }
    }
}
