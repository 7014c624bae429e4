import Foundation
import Shared
import TestSupport
import Testing

@testable import Dispatcher

/// The relay publishes each stored message once, while the deletion of confirmed rows rides in
/// later commits.
@Suite("Outbox relay")
struct OutboxRelayTests {
    @Test("300 jobs submitted at once are each published once, also after the relay went over the outbox again")
    func eachMessagePublishedOnce() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"]))
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<300 {
                    group.addTask { try await fleet.submit(SubmitJobRequest(bot: "quick", group: "nobody-runs")) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(ids.count == 300)
            try await waitUntil(timeout: .seconds(30)) { try await fleet.store.jobCounts()[.queued] == 300 }
            #expect(try await fleet.store.outboxCount() == 0)
            // Idle, the relay reads the outbox from its oldest row every second: nothing goes out twice.
            try await Task.sleep(for: .milliseconds(2_500))
            let queues = Priority.allCases.flatMap { priority in
                Topology.Lane.allCases.map { Topology.jobQueue(group: "nobody-runs", priority: priority, lane: $0) }
            }
            #expect(try await messagesWaiting(in: queues, url: fleet.url) == 300)
        }
    }

    @Test("an idle relay publishes what a commit stored as soon as it is stored, not at its once-a-second look")
    func idleRelayPublishesAtOnce() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"]))
            let bot = try #require(try await fleet.store.bot(named: "quick"))
            var delays: [Duration] = []
            for _ in 0..<10 {
                // Idle: the relay waits for news. Stored here, the job's message has no route to tell it.
                try await Task.sleep(for: .milliseconds(150))
                let stored = ContinuousClock.now
                let id = try await fleet.store.submit(SubmitJobRequest(bot: "quick", group: "nobody-runs"), bot: bot).id
                // Queued once the broker confirmed its message (committed here rather than waiting for company).
                while true {
                    await fleet.store.commitDeferredWritesIfAny()
                    if try await fleet.store.job(id: id)?.state == .queued { break }
                    try #require(ContinuousClock.now - stored < .seconds(10))
                    try await Task.sleep(for: .milliseconds(2))
                }
                delays.append(ContinuousClock.now - stored)
            }
            #expect(delays.sorted()[5] < .milliseconds(250), "median \(delays.sorted()[5]) of \(delays)")
        }
    }

    @Test("a message the broker refuses while the relay waits (a full queue) stays in the outbox and goes out once there is room, once")
    func refusedMessageGoesOutAgain() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"]))
            let queue = Topology.jobQueue(group: "full", priority: .normal)
            let policy = "api/policies/\(fleet.url.virtualHost)/full"
            let pattern = "^" + queue.replacingOccurrences(of: ".", with: "\\\\.") + "$"
            try await TestBroker.management(.put, policy, body: """
                {"pattern": "\(pattern)", "apply-to": "queues", "definition": {"max-length": 1, "overflow": "reject-publish"}}
                """)
            // A quorum queue refuses once it is over its limit: the first two go in.
            for _ in 0..<2 {
                let id = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "full"))
                try await waitUntil(timeout: .seconds(10)) {
                    await fleet.store.commitDeferredWritesIfAny()
                    return try await fleet.store.job(id: id)?.state == .queued
                }
            }
            // Idle now, its queues declared: the next job's message goes out from its commit, and the
            // full queue refuses it, again each time the relay tries.
            try await Task.sleep(for: .milliseconds(300))
            let refused = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "full"))
            try await Task.sleep(for: .milliseconds(2_000))
            await fleet.store.commitDeferredWritesIfAny()
            #expect(try await fleet.store.job(id: refused)?.state == .pending)
            #expect(try await fleet.store.outboxCount() == 1)

            // Room made (the queue emptied; a quorum queue that refuses stays so until it shrinks).
            try await TestBroker.management(.delete, "api/queues/\(fleet.url.virtualHost)/\(queue)/contents")
            try await waitUntil(timeout: .seconds(10)) {
                await fleet.store.commitDeferredWritesIfAny()
                return try await fleet.store.job(id: refused)?.state == .queued
            }
            #expect(try await fleet.store.outboxCount() == 0)
            #expect(try await messagesWaiting(in: [queue], url: fleet.url) == 1)
        }
    }
}
