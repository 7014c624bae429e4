import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

/// A group's launch-admission table in the store: kept with the group, and picking the mode of
/// every launch that names none, whoever starts it (the API, a bot, a run, a queue trigger).
@Suite("Launch admission by launch method in the store")
struct LaunchAdmissionStoreTests {
    static let bot = BotDefinition(name: "echo", argv: ["/bin/echo"], timeoutSeconds: 30,
                                   retry: .fixed(maxAttempts: 1, waitMilliseconds: 0))
    static let idle = "No slots available: no worker of group g1 is active"

    func launch(_ store: BotyardStore, _ method: LaunchMethod?, admission: AdmissionMode? = nil,
                account: String? = nil) async throws -> JobSnapshot {
        try await store.submit(SubmitJobRequest(bot: "echo", group: "g1", account: account, launchMethod: method,
                                          admission: admission), bot: Self.bot)
    }

    /// A worker of g1 with one account of `slots` slots.
    func heartbeat(_ store: BotyardStore, slots: Int) async throws {
        let beat = WorkerHeartbeat(workerID: "w1", group: "g1", host: "h1",
                                   accounts: [AccountStatus(name: "robot1", limit: slots)], slots: slots, running: 0,
                                   intervalSeconds: 5)
        _ = try await store.apply([], heartbeats: [beat], random: { 0 })
    }

    @Test("a group's table is stored with its own entries only, survives a reopened store, and is replaced whole")
    func persistence() async throws {
        try await withTemporaryStore { store, path in
            let table = LaunchAdmissionTable([.manual: .queue])
            try await store.saveGroup("g1", settings: GroupSettings(maxQueued: 3, launchAdmission: table))
            let stored = try await store.database.read {
                try String.fetchOne($0, sql: "SELECT launchAdmission FROM groups WHERE name = 'g1'")
            }
            #expect(stored == #"{"manual":"queue"}"#)
            let reopened = try await BotyardStore.open(path: path, durability: .normal)
            let group = try #require(try await reopened.groups().first)
            #expect(group.maxQueued == 3 && group.launchAdmission == table.effective)
            #expect(group.launchAdmission[.api] == .bounded)

            try await reopened.saveGroup("g1", settings: GroupSettings())
            let reset = try #require(try await reopened.groups().first)
            #expect(reset.maxQueued == nil && reset.launchAdmission == LaunchAdmissionTable().effective)
        }
    }

    @Test("no slot free, no mode named: every method waits but manual, refused at once (no maxQueued set)")
    func defaultsPickTheMode() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            for method in [LaunchMethod.schedule, .queueTrigger, .pipeline, .workflow, .api, .botStartedByBot, nil] {
                #expect(try await launch(store, method).state == .pending, "\(method?.rawValue ?? "none")")
            }
            let manual = try await launch(store, .manual)
            #expect(manual.state == .rejected && manual.reason == Self.idle && manual.launchMethod == .manual)
            #expect(try await store.job(id: manual.id)?.history?.map(\.to) == [JobState.pending, .rejected])
            // A launch may still name its mode.
            #expect(try await launch(store, .manual, admission: .queue).state == .pending)
            #expect(try await launch(store, .schedule, admission: .sync).reason == Self.idle)
        }
    }

    @Test("an api launch, or one without a method, is bounded by the group's maxQueued once no slot is free")
    func apiIsBounded() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            try await store.saveGroup("g1", settings: GroupSettings(maxQueued: 1))
            #expect(try await launch(store, nil).state == .pending)
            let over = try await launch(store, .api)
            #expect(over.state == .rejected)
            #expect(over.reason == Self.idle + ", and the group has its maximum of 1 jobs waiting")
            #expect(try await launch(store, nil).state == .rejected)
            #expect(try await launch(store, .schedule).state == .pending)
        }
    }

    @Test("a bounded launch with a free slot is taken in with maxQueued 0, and refused once the slot is taken")
    func boundedWithFreeSlot() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            try await store.saveGroup("g1", settings: GroupSettings(maxQueued: 0))
            try await heartbeat(store, slots: 1)
            #expect(try await launch(store, .api).state == .pending)
            #expect(try await launch(store, .api).reason
                == "No slots available: all 1 slots of group g1 are taken, and the "
                + "group has its maximum of 0 jobs waiting")
        }
    }

    @Test("a job a bot starts is bounded like an api launch")
    func botStartedByBot() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            try await store.saveGroup("g1", settings: GroupSettings(maxQueued: 0))
            let parent = try await launch(store, .schedule)
            let request = SubmitJobRequest(bot: "echo", group: "g1", launchMethod: .botStartedByBot)
            guard case .submitted(let child) = try await store.submit(request, bot: Self.bot, startedBy: parent.id) else {
                Issue.record("the child was not submitted")
                return
            }
            #expect(child.state == .rejected && child.parentJob == parent.id)
            #expect(child.reason == Self.idle + ", and the group has its maximum of 0 jobs waiting")
        }
    }

    @Test("the group's own entries replace the defaults for its launches only")
    func overrides() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let table = LaunchAdmissionTable([.manual: .queue, .schedule: .sync])
            try await store.saveGroup("g1", settings: GroupSettings(launchAdmission: table))
            #expect(try await launch(store, .manual).state == .pending)
            #expect(try await launch(store, .schedule).reason == Self.idle)
            let other = SubmitJobRequest(bot: "echo", group: "g2", launchMethod: .manual)
            let refused = try await store.submit(other, bot: Self.bot)
            #expect(refused.reason == "No slots available: no worker of group g2 is active")
        }
    }

    @Test("a targeted manual launch keeps waiting in the robot queue: the table does not make it sync")
    func targetedLaunch() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let job = try await launch(store, .manual, account: "robot1")
            #expect(job.state == .pending)
            #expect(try await store.robotQueue().map(\.jobID) == [job.id])
        }
    }
}
