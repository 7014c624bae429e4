import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Group admission in the store")
struct GroupAdmissionStoreTests {
    static let bot = BotDefinition(name: "echo", argv: ["/bin/echo"], timeoutSeconds: 30)

    @Test("a bounded launch with no slot free over the group's maxQueued is stored rejected, nothing published")
    func boundedRejected() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            try await store.saveGroup("g1", settings: GroupSettings(maxQueued: 1))
            let bounded = SubmitJobRequest(bot: "echo", group: "g1", admission: .bounded)
            #expect(try await store.submit(bounded, bot: Self.bot).state == .pending)
            let outbox = try await store.outboxCount()
            let refused = try await store.submit(bounded, bot: Self.bot)
            #expect(refused.state == .rejected)
            #expect(refused.reason == "No slots available: no worker of group g1 is active, and the group has its "
                + "maximum of 1 jobs waiting")
            #expect(try await store.outboxCount() == outbox)
            let history = try #require(try await store.job(id: refused.id)?.history)
            #expect(history.map(\.to) == [JobState.pending, .rejected])
            // Other groups and other modes are not bounded by g1's setting.
            #expect(try await store.submit(SubmitJobRequest(bot: "echo", group: "g1", admission: .queue), bot: Self.bot)
                .state == .pending)
            #expect(try await store.submit(SubmitJobRequest(bot: "echo", group: "g2", admission: .bounded), bot: Self.bot)
                .state == .pending)
            let group = try #require(try await store.groups().first { $0.name == "g1" })
            #expect(group.waiting == 2 && group.maxQueued == 1)
        }
    }

    @Test("a batch into groups with maxQueued takes jobs in up to each group's limit, counting its own, and stores the rest rejected")
    func batchBounded() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            try await store.saveGroup("g1", settings: GroupSettings(maxQueued: 2))
            try await store.saveGroup("g2", settings: GroupSettings(maxQueued: 1))
            let groups = ["g1", "g2", "g1", "g2", "g1", "g3"]
            let result = try await store.submitBatch(groups.map {
                SubmitJobRequest(bot: "echo", group: $0, admission: .bounded)
            })
            guard case .submitted(let jobs) = result else { Issue.record("not submitted: \(result)"); return }
            #expect(jobs.map(\.state) == [.pending, .pending, .pending, .rejected, .rejected, .pending])
            #expect(jobs[3].reason?.hasSuffix("the group has its maximum of 1 jobs waiting") == true)
            #expect(jobs[4].reason?.hasSuffix("the group has its maximum of 2 jobs waiting") == true)
        }
    }

    @Test("a sync launch is taken in while the group's heartbeats show a free slot, and rejected after")
    func syncFromHeartbeats() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let sync = SubmitJobRequest(bot: "echo", group: "g1", admission: .sync)
            #expect(try await store.submit(sync, bot: Self.bot).reason == "No slots available: no worker of group g1 is active")
            let beat = WorkerHeartbeat(workerID: "w1", group: "g1", host: "h1",
                                       accounts: [AccountStatus(name: "robot1", limit: 2)], slots: 8, running: 0,
                                       intervalSeconds: 5)
            _ = try await store.apply([], heartbeats: [beat], random: { 0 })
            #expect(try await store.submit(sync, bot: Self.bot).state == .pending)
            #expect(try await store.submit(sync, bot: Self.bot).state == .pending)
            #expect(try await store.submit(sync, bot: Self.bot).reason == "No slots available: all 2 slots of group g1 are taken")
        }
    }
}
