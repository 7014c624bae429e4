import Dispatch
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Shared
import Synchronization
import Testing
import TestSupport

@testable import Dispatcher

/// On two cores the cooperative pool has two threads. A store call that waited for the writer
/// on one of them held up half of the dispatcher (every request, the event consumer, the relay),
/// and as many waiting calls as the pool has threads held up all of it until the writer was free.
@Suite("The store's calls hold no thread of the cooperative pool while they wait")
struct StoreThreadTests {
    /// More callers than the pool has threads (as many as the machine has processors, at most).
    static let callers = ProcessInfo.processInfo.processorCount * 4

    @Test("while a long transaction holds the writer, writes waiting for it leave the pool free: a read answers")
    func waitingWritesLeaveThePoolFree() async throws {
        try await withTemporaryStore { store, _ in
            try await withWriterHeld(store) { writer in
                try await withThrowingTaskGroup { group in
                    for index in 0..<Self.callers {
                        group.addTask {
                            try await store.saveBot(BotDefinition(name: "bot\(index)", argv: ["/bin/true"]))
                        }
                    }
                    try await writer.waitUntilWaiting(Self.callers)
                    let bots = try await store.bots()
                    #expect(writer.letGo(), "the read answered only once the writer was let go")
                    #expect(bots.map(\.name).isEmpty)
                    try await group.waitForAll()
                }
            }
            #expect(try await store.bots().count == Self.callers)
        }
    }

    @Test("while a long transaction holds the writer, requests that write wait for it and a request that reads answers")
    func waitingRequestsLeaveThePoolFree() async throws {
        try await withTemporaryStore { store, _ in
            let router = buildRouter(store: store, robotQueueSignal: WakeSignal())
            let token = try await store.testToken()
            try await Application(router: router).test(.router) { testClient in
                let client = APIClient(client: testClient, token: token)
                try await withWriterHeld(store) { writer in
                    try await withThrowingTaskGroup { group in
                        for index in 0..<Self.callers {
                            group.addTask {
                                let bot = #"{"name": "bot\#(index)", "argv": ["/bin/true"]}"#
                                let response = try await client.send(.post, "/v1/bots", bot)
                                #expect(response.status == .created)
                            }
                        }
                        try await writer.waitUntilWaiting(Self.callers)
                        let listed = try await client.send(.get, "/v1/bots")
                        #expect(writer.letGo(), "the read answered only once the writer was let go")
                        #expect(listed.status == .ok)
                        #expect(try listed.decode([BotDefinition].self).isEmpty)
                        try await group.waitForAll()
                    }
                }
                #expect(try await client.send(.get, "/v1/bots").decode([BotDefinition].self).count == Self.callers)
            }
        }
    }

    @Test("stores that open a file one migration behind while its writer is held wait off the pool: a read answers")
    func openingStoresLeaveThePoolFree() async throws {
        try await withTemporaryStore { store, path in
            let behind = path + "-behind"
            let file = try storeFile(at: behind, migratedUpTo: "v16-retention")
            try await withWriterHeld(await HeldWriter.holding(file), atMost: .seconds(5)) { writer in
                try await withThrowingTaskGroup { group in
                    for _ in 0..<Self.callers {
                        group.addTask { _ = try await BotyardStore.open(path: behind, durability: .normal) }
                    }
                    // Time for every opening to reach the migration and wait for the writer.
                    try await Task.sleep(for: .milliseconds(200))
                    let bots = try await store.bots()
                    #expect(writer.letGo(), "the read answered only once the writer was let go")
                    #expect(bots.isEmpty)
                    try await group.waitForAll()
                }
            }
            #expect(try await file.read(StoreMigrations.migrator().hasCompletedMigrations))
        }
    }

    @Test("while long reads run, the pool's threads stay free: a deferred write commits and its caller resumes")
    func deferredWritesDoNotWaitForReads() async throws {
        try await withTemporaryStore(deferredWritesWait: .milliseconds(50)) { store, _ in
            let gate = Gate()
            // A thread of its own opens the gate if the write never commits.
            DispatchQueue(label: "gate").asyncAfter(deadline: .now() + 5) { _ = gate.open(for: Self.callers) }
            try await withThrowingTaskGroup { group in
                for _ in 0..<Self.callers {
                    group.addTask { try await store.read("a long read") { _ in gate.wait() } }
                }
                let failure = await withCheckedContinuation { (committed: CheckedContinuation<StoreError?, Never>) in
                    store.writeDeferred("store a bot", { db in
                        try db.execute(sql: "INSERT INTO bots VALUES (?, ?, ?, ?)", arguments: ["probe", "{}", 0, 0])
                    }, completion: { committed.resume(returning: $0) })
                }
                #expect(failure == nil)
                #expect(gate.open(for: Self.callers), "the deferred write committed only once the reads were let go")
                try await group.waitForAll()
            }
        }
    }

    /// Runs `body` while a transaction holds the store's writer, until `body` lets it go, or a
    /// thread outside the pool does after `atMost` (a dispatcher whose pool is stuck would
    /// otherwise never get there).
    func withWriterHeld(_ store: BotyardStore, atMost: Duration = .seconds(20),
                        _ body: (HeldWriter) async throws -> Void) async throws {
        try await withWriterHeld(await HeldWriter.holding(store), atMost: atMost, body)
    }

    /// Runs `body` while `writer` is held, until `body` or the timer after `atMost` lets it go.
    func withWriterHeld(_ writer: HeldWriter, atMost: Duration,
                        _ body: (HeldWriter) async throws -> Void) async throws {
        // A serial queue's thread: the global queue's are the pool's, on Linux.
        let deadline = DispatchTime.now() + .nanoseconds(Int(atMost / .nanoseconds(1)))
        DispatchQueue(label: "held writer's timer").asyncAfter(deadline: deadline) {
            _ = writer.letGo()
        }
        defer { _ = writer.letGo() }
        try await body(writer)
    }
}

/// A database's writer, held by a transaction that waits on the writer's own thread.
final class HeldWriter: Sendable {
    private let release = DispatchSemaphore(value: 0)
    private let held = Atomic(true)
    /// How many writes wait for the writer.
    private let waitingCount: @Sendable () -> Int

    private init(waitingCount: @escaping @Sendable () -> Int) {
        self.waitingCount = waitingCount
    }

    /// Returns once a transaction holds `store`'s writer.
    static func holding(_ store: BotyardStore) async -> HeldWriter {
        await holding(store.database) { store.groupCommit.waitingCount }
    }

    /// Returns once a transaction holds `database`'s writer; `waitingCount` says how many writes wait for it.
    static func holding(_ database: any DatabaseWriter,
                        waitingCount: @escaping @Sendable () -> Int = { 0 }) async -> HeldWriter {
        let writer = HeldWriter(waitingCount: waitingCount)
        await withCheckedContinuation { (holding: CheckedContinuation<Void, Never>) in
            database.asyncWriteWithoutTransaction { [release = writer.release] db in
                try? db.execute(sql: "BEGIN IMMEDIATE")
                holding.resume()
                release.wait()
                try? db.execute(sql: "ROLLBACK")
            }
        }
        return writer
    }

    /// Lets the writer go; true when it was still held until now.
    func letGo() -> Bool {
        guard held.exchange(false, ordering: .acquiringAndReleasing) else { return false }
        release.signal()
        return true
    }

    /// Returns once `count` writes wait for the writer, or it was let go.
    func waitUntilWaiting(_ count: Int) async throws {
        while waitingCount() < count && held.load(ordering: .acquiring) {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Holds the threads that wait at it until it opens.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let closed = Atomic(true)

    /// Blocks the calling thread until the gate opens.
    func wait() {
        semaphore.wait()
    }

    /// Opens the gate for `waiters` threads; true when it was still closed until now.
    func open(for waiters: Int) -> Bool {
        guard closed.exchange(false, ordering: .acquiringAndReleasing) else { return false }
        for _ in 0..<waiters { semaphore.signal() }
        return true
    }
}
