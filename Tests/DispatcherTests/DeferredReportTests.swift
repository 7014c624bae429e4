import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("Reports that wait for company")
struct DeferredReportTests {
    static func report(_ kind: JobEvent.Kind, jobID: Int64) -> JobEvent {
        JobEvent(kind: kind, jobID: jobID, attempt: 1, runID: "run-\(jobID)", workerID: "w1", host: "h1",
                 account: nil, outcome: kind == .finished ? JobOutcome(result: .succeeded, reason: "done") : nil)
    }

    @Test("a batch that only says runs started rides in the next commit; a batch with an end rides unless work follows")
    func howBatchesCommit() {
        #expect(EventConsumer.commit(of: [Self.report(.started, jobID: 1), Self.report(.started, jobID: 2)]) == .riding)
        #expect(EventConsumer.commit(of: []) == .riding, "heartbeats alone")
        for kind in JobEvent.Kind.allCases where kind != .started {
            #expect(EventConsumer.commit(of: [Self.report(.started, jobID: 1), Self.report(kind, jobID: 2)])
                    == .ridingUnlessWorkFollows)
        }
    }

    static let echo = BotDefinition(name: "echo", argv: ["/bin/echo"])

    /// A store whose deferred writes wait 60 s, a viewer's token, and a submitted job whose start
    /// report was applied deferred and waits for company (`applying` answers once it committed).
    static func withWaitingStart(
        _ body: @escaping @Sendable (_ store: BotyardStore, _ viewerToken: String, _ jobID: Int64,
                                     _ applying: Task<BotyardStore.AppliedEvents, any Error>) async throws -> Void
    ) async throws {
        try await withTemporaryStore(deferredWritesWait: .seconds(60)) { store, _ in
            try await store.saveBot(Self.echo)
            let id = try await store.submit(SubmitJobRequest(bot: "echo", group: "g1"), bot: Self.echo).id
            // Made first: a write of its own would carry the start into its transaction.
            let token = try await store.testToken(.viewer)
            let pending = store.apply([Self.report(.started, jobID: id)], heartbeats: [], commit: .riding)
            let applying = Task { try await pending.value }
            try await waitUntil { store.groupCommit.deferredCount == 1 }
            #expect(try await store.job(id: id)?.state == .pending, "not stored while it waits")
            try await body(store, token, id, applying)
        }
    }

    @Test("started reports applied deferred are stored with the next write's commit, and answered then")
    func deferredStartsRideAlong() async throws {
        try await Self.withWaitingStart { store, _, id, applying in
            try await store.saveBot(Self.echo)
            let applied = try await applying.value
            #expect(applied.results == [.applied(.running, publishes: false)])
            #expect(try await store.job(id: id)?.state == .running)
        }
    }

    @Test("a read through the API shows a start that still waits for company, and what it read is committed")
    func apiReadsCommitWaitingStarts() async throws {
        try await Self.withWaitingStart { store, token, id, applying in
            let router = buildRouter(store: store, robotQueueSignal: WakeSignal())
            try await Application(router: router).test(.router) { client in
                let api = APIClient(client: client, token: token)
                let shown = try await api.send(.get, "/v1/jobs/\(id)").decode(JobSnapshot.self)
                #expect(shown.state == .running)
                let stats = try await api.send(.get, "/v1/stats").decode(DispatcherStats.self)
                #expect(stats.jobs["running"] == 1)
            }
            #expect(try await applying.value.results == [.applied(.running, publishes: false)])
        }
    }

    @Test("an end from which nothing follows is applied at once, and stored with the next write's commit")
    func plainEndRidesAlong() async throws {
        try await withTemporaryStore(deferredWritesWait: .seconds(60)) { store, _ in
            try await store.saveBot(Self.echo)
            let id = try await store.submit(SubmitJobRequest(bot: "echo", group: "g1"), bot: Self.echo).id
            let ended = store.apply([Self.report(.started, jobID: id), Self.report(.finished, jobID: id)],
                                    heartbeats: [], commit: .ridingUnlessWorkFollows)
            try await waitUntil { store.groupCommit.heldCount == 1 }
            #expect(try await store.job(id: id)?.state == .pending, "not stored while it waits")
            try await store.saveBot(Self.echo)
            #expect(try await ended.value.results == [.applied(.running, publishes: false),
                                                      .applied(.succeeded, publishes: false)])
            #expect(try await store.job(id: id)?.state == .succeeded)
        }
    }

    @Test("an end that gives the relay work (a failed attempt's retry, its message to publish) commits at once")
    func endWithWorkCommitsAtOnce() async throws {
        try await withTemporaryStore(deferredWritesWait: .seconds(60)) { store, _ in
            try await store.saveBot(Self.echo)
            let id = try await store.submit(SubmitJobRequest(bot: "echo", group: "g1"), bot: Self.echo).id
            var failed = Self.report(.finished, jobID: id)
            failed.outcome = JobOutcome(result: .failed, reason: "exit 1")
            let asked = ContinuousClock.now
            let applied = try await store.apply([Self.report(.started, jobID: id), failed], heartbeats: [],
                                                commit: .ridingUnlessWorkFollows).value
            #expect(ContinuousClock.now - asked < .seconds(30), "committed without the 60 s wait")
            #expect(applied.addedMessages)
            #expect(try await store.job(id: id)?.state == .retrying)
            #expect(try await store.outboxCount() == 2, "the first dispatch and the retry")
            #expect(store.groupCommit.heldCount == 0)
        }
    }
}
