import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

/// A run's start is reported after the worker's start report delay; a run that ends sooner is
/// reported once, its end carrying its start.
@Suite("Start reports")
struct StartReportTests {
    /// The reports the dispatcher applied for job `id`.
    func appliedReports(of id: Int64, in fleet: Fleet) async throws -> Int {
        try await fleet.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM applied_events WHERE jobID = ?", arguments: [id]) ?? 0
        }
    }

    @Test("a bot that ends within the delay is reported once: its end carries its start, dated when the run began")
    func endCarriesStart() async throws {
        try await Fleet.run(startReportDelay: .seconds(10)) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            let id = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))
            let job = try await fleet.waitForJob(id)
            #expect(job.state == .succeeded)
            #expect(job.history?.map(\.to) == [.pending, .queued, .running, .succeeded])
            #expect(job.history?[2].reason == "attempt 1 started on host0 as robot0 (reported with its outcome)")
            let (started, finished) = (try #require(job.startedAt), try #require(job.finishedAt))
            #expect(job.submittedAt <= started && started <= finished)
            #expect(try await appliedReports(of: id, in: fleet) == 1)
        }
    }

    @Test("a bot that runs past the delay is shown running while it runs; with no delay, at once",
          arguments: [Duration.milliseconds(50), .zero])
    func longRunShownRunning(delay: Duration) async throws {
        try await Fleet.run(startReportDelay: delay) { fleet in
            // The bot waits to be let go: a quick one may end before its start's report begins, even with
            // no delay, and then its end carries its start.
            let go = fleet.folder.appendingPathComponent("go")
            try await fleet.register(CreateBotRequest(name: "waiter", argv: ["/bin/sh", "-c", """
                while [ ! -f "\(go.path)" ]; do sleep 0.05; done
                """], timeoutSeconds: 60))
            let id = try await fleet.submit(SubmitJobRequest(bot: "waiter", group: "g1"))
            let running = try await fleet.waitForJob(id, timeout: .seconds(30)) { $0.state == .running }
            #expect(running.state == .running)
            #expect(running.history?.last?.reason == "attempt 1 started on host0 as robot0")
            FileManager.default.createFile(atPath: go.path, contents: Data())
            let job = try await fleet.waitForJob(id, timeout: .seconds(30))
            #expect(job.state == .succeeded && job.startedAt == running.startedAt)
            #expect(try await appliedReports(of: id, in: fleet) == 2)
        }
    }
}
