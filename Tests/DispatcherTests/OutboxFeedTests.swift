import Foundation
import GRDB
import Shared
import Synchronization
import Testing

@testable import Dispatcher

@Suite("The outbox feed: each commit's outbox rows handed to the relay without a read")
struct OutboxFeedTests {
    static let echo = BotDefinition(name: "echo", argv: ["/bin/echo"])

    /// Submits an `echo` job in a commit of its own; returns its id.
    static func submitEcho(to store: BotyardStore) async throws -> Int64 {
        try await store.submit(SubmitJobRequest(bot: "echo", group: "g1"), bot: echo).id
    }

    /// A store with the `echo` bot (saved after `signal` subscribed to its feed), for `body`.
    static func withEchoStore(_ body: (BotyardStore, WakeSignal) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let signal = WakeSignal()
            store.outboxFeed.subscribe(signal)
            try await store.saveBot(echo)
            try await body(store, signal)
        }
    }

    @Test("the rows a commit adds are in the feed once it committed, as a read of the outbox would give them")
    func committedRowsReachTheFeed() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.echo)
            _ = store.outboxFeed.take(after: 0)
            let id = try await Self.submitEcho(to: store)
            let fed = try #require(store.outboxFeed.take(after: 0))
            let read = try await store.outbox(limit: 10)
            #expect(fed.map(\.jobID) == [id])
            #expect(fed.map(\.id) == read.map(\.id))
            #expect(fed.map(\.body) == read.map(\.body), "the first dispatch's body built from the job's row")
            #expect(store.outboxFeed.take(after: 0)?.isEmpty == true, "taken once")
        }
    }

    @Test("rows at or before the relay's cursor are left out of what it takes")
    func rowsBeforeTheCursorAreLeftOut() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.echo)
            _ = store.outboxFeed.take(after: 0)
            for _ in 1...3 { _ = try await Self.submitEcho(to: store) }
            let rowIDs = try await store.outbox(limit: 10).compactMap(\.id)
            #expect(store.outboxFeed.take(after: rowIDs[0])?.compactMap(\.id) == Array(rowIDs.dropFirst()))
        }
    }

    @Test("a commit that adds more rows than the feed reads leaves a gap: the relay is to read the store")
    func largeCommitLeavesAGap() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.echo)
            _ = store.outboxFeed.take(after: 0)
            _ = try await store.submitBatch(Array(repeating: SubmitJobRequest(bot: "echo", group: "g1"), count: 33))
            #expect(store.outboxFeed.take(after: 0) == nil)
            #expect(store.outboxFeed.take(after: 0)?.isEmpty == true, "the gap is taken with the rows")
        }
    }

    @Test("cleared before the relay reads the store, the feed forgets its rows and its gap")
    func clearForgetsRowsAndGap() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.echo)
            _ = try await store.submitBatch(Array(repeating: SubmitJobRequest(bot: "echo", group: "g1"), count: 33))
            _ = try await Self.submitEcho(to: store)
            store.outboxFeed.clear()
            #expect(store.outboxFeed.take(after: 0)?.isEmpty == true)
        }
    }

    @Test("more rows than the feed keeps, not taken, leave a gap instead of growing it")
    func untakenRowsBeyondTheCapacityLeaveAGap() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.echo)
            let small = OutboxFeed(capacity: 2)
            try await store.database.writeWithoutTransaction { db in db.add(transactionObserver: small) }
            for _ in 1...2 { _ = try await Self.submitEcho(to: store) }
            #expect(small.take(after: 0)?.count == 2)
            for _ in 1...3 { _ = try await Self.submitEcho(to: store) }
            #expect(small.take(after: 0) == nil)
        }
    }

    @Test("the rows of a write that failed never reach the feed")
    func rolledBackRowsNeverReachTheFeed() async throws {
        struct Refused: Error {}
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.echo)
            let id = try await Self.submitEcho(to: store)
            _ = store.outboxFeed.take(after: 0)
            await #expect(throws: StoreError.self) {
                try await store.write("refused") { db in
                    try BotyardStore.enqueueControl(ControlMessage(command: .cancel, jobID: id), routingKey: "h1",
                                                    at: Date(), in: db)
                    throw Refused()
                }
            }
            try await store.saveBot(Self.echo)
            #expect(store.outboxFeed.take(after: 0)?.isEmpty == true)
        }
    }

    @Test("a subscriber is woken by every commit that adds rows, and by no other")
    func subscriberIsWokenByRows() async throws {
        try await Self.withEchoStore { store, signal in
            #expect(!signal.takeNotification(), "saving a bot publishes nothing")
            _ = try await Self.submitEcho(to: store)
            #expect(signal.takeNotification())
        }
    }

    /// What a commit publisher was handed, commit by commit; it declines while `declining`.
    final class Publisher: Sendable {
        let commits = Mutex<[[OutboxRecord]]>([])
        let declining = Atomic(false)

        func publish(_ rows: [OutboxRecord]) -> Bool {
            commits.withLock { $0.append(rows) }
            return !declining.load(ordering: .relaxed)
        }

        var rowIDs: [[Int64]] { commits.withLock { $0.map { $0.compactMap(\.id) } } }
    }

    @Test("while the relay waits, a commit's rows go to the commit publisher, not to the feed, and wake nobody")
    func commitsPublishTheirRows() async throws {
        try await Self.withEchoStore { store, signal in
            let publisher = Publisher()
            #expect(store.outboxFeed.publishFromCommits(publisher.publish))
            let first = try await Self.submitEcho(to: store)
            let second = try await Self.submitEcho(to: store)
            #expect(publisher.commits.withLock { $0.map { $0.map(\.jobID) } } == [[first], [second]])
            #expect(publisher.rowIDs.flatMap { $0 } == (try await store.outbox(limit: 10)).compactMap(\.id))
            #expect(store.outboxFeed.take(after: 0)?.isEmpty == true)
            #expect(!signal.takeNotification())

            store.outboxFeed.stopPublishingFromCommits()
            let third = try await Self.submitEcho(to: store)
            #expect(publisher.commits.withLock { $0.count } == 2, "stopped, no commit publishes")
            #expect(store.outboxFeed.take(after: 0)?.map(\.jobID) == [third])
            #expect(signal.takeNotification())
        }
    }

    @Test("a commit whose rows the publisher declines goes to the relay, and so does every commit after it, in order")
    func declinedRowsAndTheirSuccessorsGoToTheRelay() async throws {
        try await Self.withEchoStore { store, signal in
            let publisher = Publisher()
            publisher.declining.store(true, ordering: .relaxed)
            store.outboxFeed.publishFromCommits(publisher.publish)
            let declined = try await Self.submitEcho(to: store)
            publisher.declining.store(false, ordering: .relaxed)
            let after = try await Self.submitEcho(to: store)
            #expect(publisher.commits.withLock { $0.count } == 1, "asked once, then no more")
            #expect(signal.takeNotification())
            #expect(store.outboxFeed.take(after: 0)?.map(\.jobID) == [declined, after])
        }
    }

    @Test("commits do not publish while committed rows wait for the relay, nor after a commit too big to read here")
    func relayFirst() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.echo)
            _ = store.outboxFeed.take(after: 0)
            let publisher = Publisher()
            let waiting = try await Self.submitEcho(to: store)
            #expect(!store.outboxFeed.publishFromCommits(publisher.publish), "a row waits for the relay")
            let next = try await Self.submitEcho(to: store)
            #expect(store.outboxFeed.take(after: 0)?.map(\.jobID) == [waiting, next])
            #expect(publisher.commits.withLock { $0.isEmpty })

            #expect(store.outboxFeed.publishFromCommits(publisher.publish))
            _ = try await store.submitBatch(Array(repeating: SubmitJobRequest(bot: "echo", group: "g1"), count: 33))
            _ = try await Self.submitEcho(to: store)
            #expect(publisher.commits.withLock { $0.isEmpty })
            #expect(store.outboxFeed.take(after: 0) == nil, "the relay reads the store, from its cursor")
        }
    }
}
