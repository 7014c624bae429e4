import Foundation
import Shared
import Testing

@testable import Dispatcher

/// A queue trigger with an active window starts no job outside it, nor one the bot's p90 run
/// time says would not end before it closes; its evaluation says why.
@Suite("Queue triggers with an active window")
struct QueueTriggerWindowTests {
    static let bot = ScheduleStoreTests.bot

    func withWindowedTrigger(_ body: (BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            _ = try await store.saveQueue(WorkQueueDefinition(name: "invoices"), replace: false)
            let trigger = QueueTriggerDefinition(queue: "invoices", bot: "reporter", group: "g1", maxConcurrentJobs: 2,
                                                 window: try ActiveWindow(parsing: "Mon-Fri 08:00-18:00"),
                                                 timeZone: "Europe/Berlin")
            let savedAt = ScheduleStoreTests.at("2026-12-01 06:00")
            guard case .saved = try await store.saveTrigger(trigger, at: savedAt) else {
                Issue.record("trigger not saved")
                return
            }
            try await body(store)
        }
    }

    func add(_ store: BotyardStore, at text: String) async throws -> QueueTriggerReport? {
        _ = try await store.addItems([AddItemRequest()], to: "invoices", at: ScheduleStoreTests.at(text))
        return try await store.trigger(ofQueue: "invoices")?.lastEvaluation
    }

    @Test("items added outside the window start no job and say so; inside it, they do")
    func outsideThenInside() async throws {
        try await withWindowedTrigger { store in
            let early = try #require(try await add(store, at: "2026-12-01 07:30"))
            #expect(early.startedJobs.isEmpty && early.evaluation.jobsToStart == 1)
            #expect(early.problem == "not started: outside its active window (Mon–Fri 08:00–18:00)")
            let inside = try #require(try await add(store, at: "2026-12-01 08:05"))
            #expect(inside.startedJobs.count == 2 && inside.problem == nil)
        }
    }

    @Test("items added when the bot's p90 run time ends after the window closes start no job, with the p90 as reason")
    func p90PastClosing() async throws {
        try await withWindowedTrigger { store in
            for (index, minutes) in [40.0, 45, 50].enumerated() {
                try await ScheduleStoreTests().runBot(store, from: ScheduleStoreTests.at("2026-11-2\(index + 1) 09:00"),
                                                minutes: minutes)
            }
            let late = try #require(try await add(store, at: "2026-12-01 17:30"))
            #expect(late.startedJobs.isEmpty)
            #expect(late.problem == "not started: unlikely to finish before its window closes "
                + "(p90 run time 50 min, window closes in 30 min)")
            let inTime = try #require(try await add(store, at: "2026-12-02 09:00"))
            #expect(inTime.startedJobs.count == 2)
        }
    }

    @Test("a trigger whose stored zone can no longer be read starts no job, rather than ignore its window")
    func unreadableZone() async throws {
        try await withWindowedTrigger { store in
            try await store.database.write { db in
                try db.execute(sql: """
                    UPDATE queue_triggers SET definition = json_set(definition, '$.timeZone', 'Nowhere/Gone')
                    """)
            }
            let report = try #require(try await add(store, at: "2026-12-01 10:00"))
            #expect(report.startedJobs.isEmpty)
            #expect(report.problem == "not started: unknown time zone 'Nowhere/Gone'")
        }
    }
}
