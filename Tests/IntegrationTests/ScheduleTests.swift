import BotyardClient
import Foundation
import Shared
import TestSupport
import Testing

/// Schedules on the real clock: a dispatcher's keeper sleeps until a firing and starts its job;
/// a dispatcher that was down across a firing applies the schedule's missed-run policy.
@Suite("Schedules on the real clock")
struct ScheduleTests {
    @Test("a one-minute cron starts a real job at the minute, and a worker runs it", .timeLimit(.minutes(3)))
    func everyMinute() async throws {
        try await Fleet.run { fleet in
            try await fleet.register(CreateBotRequest(name: "tick", argv: ["/bin/true"], timeoutSeconds: 30))
            let definition = ScheduleDefinition(name: "tick", target: .bot(ScheduledJob(bot: "tick", group: "g1")),
                                                cron: "* * * * *")
            let created = try await fleet.api.send(.put, "/v1/schedules/tick", String(decoding: try JSONCodec
                .encode(definition), as: UTF8.self))
            #expect(created.status == .created)
            let due = try #require(try created.decode(ScheduleSnapshot.self).nextFirings.first?.at)

            var firing: ScheduleFiring?
            try await waitUntil(timeout: .seconds(90)) {
                firing = try await fleet.api.send(.get, "/v1/schedules/tick/firings").decode([ScheduleFiring].self).last
                return firing != nil
            }
            let first = try #require(firing)
            #expect(first.scheduledFor == due && first.outcome == .started && first.reason == "on time")
            // The keeper sleeps until the firing; a loaded 2-core machine may add a little.
            #expect(first.latenessMilliseconds >= 0 && first.latenessMilliseconds < 1000,
                    "handled \(first.latenessMilliseconds) ms late")
            let job = try await fleet.waitForJob(try #require(first.jobID))
            #expect(job.state == .succeeded && job.launchMethod == .schedule && job.initiator == "schedule tick")
        }
    }

    @Test("a dispatcher stopped across a firing and restarted: runOnce starts one job for it, skip starts none",
          .timeLimit(.minutes(3)))
    func missedWhileStopped() async throws {
        try await TestBroker.withVirtualHost { url in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-missed-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let database = folder.appendingPathComponent("botyard.sqlite")
            try await DispatcherProcesses.with(url: url, folder: folder) { dispatchers in
                // A firing handled more than 2 s late was missed.
                let options = ["--misfire-threshold", "2"]
                let first = try await dispatchers.start(database: database, options: options)
                _ = try await first.client.post("/v1/bots", CreateBotRequest(name: "tick", argv: ["/bin/true"],
                                                                             timeoutSeconds: 30), as: BotDefinition.self)
                // Far enough from the minute that the dispatcher is gone before the firing.
                while Calendar.current.component(.second, from: Date()) > 50 { try await Task.sleep(for: .seconds(1)) }
                var due: [MissedRunPolicy: Date] = [:]
                for policy in MissedRunPolicy.allCases {
                    let definition = ScheduleDefinition(
                        name: policy.rawValue, target: .bot(ScheduledJob(bot: "tick", group: "g1")), cron: "* * * * *",
                        missedRunPolicy: policy)
                    let saved = try await first.client.put("/v1/schedules/\(policy.rawValue)", definition,
                                                            as: ScheduleSnapshot.self)
                    due[policy] = try #require(saved.nextFirings.first?.at)
                }
                await first.kill()
                let firing = try #require(due[.skip])
                while Date() < firing.addingTimeInterval(4) { try await Task.sleep(for: .milliseconds(200)) }

                let restarted = try await dispatchers.start(database: database, name: "restarted", options: options)
                var history: [MissedRunPolicy: ScheduleFiring] = [:]
                try await waitUntil(timeout: .seconds(30)) {
                    for policy in MissedRunPolicy.allCases {
                        history[policy] = try await restarted.client.get("/v1/schedules/\(policy.rawValue)/firings",
                                                                         as: [ScheduleFiring].self).last
                    }
                    return history.count == 2
                }
                let ranOnce = try #require(history[.runOnce])
                #expect(ranOnce.scheduledFor == firing && ranOnce.outcome == .started && ranOnce.missedFirings == 1)
                #expect(ranOnce.reason.hasSuffix("while no dispatcher ran: one run for them (missed-run policy runOnce)"))
                let job = try await restarted.client.get("/v1/jobs/\(try #require(ranOnce.jobID))", as: JobSnapshot.self)
                #expect(job.initiator == "schedule runOnce")
                let skipped = try #require(history[.skip])
                #expect(skipped.scheduledFor == firing && skipped.outcome == .skipped && skipped.jobID == nil)
                #expect(skipped.reason.hasSuffix("while no dispatcher ran: skipped (missed-run policy skip)"))
                let jobs = try await restarted.client.get("/v1/jobs", as: [JobSnapshot].self)
                #expect(jobs.count == 1, "only runOnce started a job")
            }
        }
    }
}
