import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API: queue triggers")
struct QueueTriggerAPITests {
    func withRouter(_ body: @escaping @Sendable (APIClient, BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(BotDefinition(name: "poster", argv: ["/bin/true"], timeoutSeconds: 30))
            _ = try await store.saveQueue(WorkQueueDefinition(name: "invoices"), replace: false)
            let app = Application(router: buildRouter(store: store, robotQueueSignal: WakeSignal()))
            try await app.test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()), store)
            }
        }
    }

    static let trigger = """
        {"bot": "poster", "group": "g1", "minItemsToTrigger": 31, "maxConcurrentJobs": 3, "itemsPerJob": 10,
         "pendingJobsStrategy": false, "strategy": "uipath"}
        """

    @Test("PUT creates (201) then replaces (200) the queue's trigger; GET shows it; DELETE removes it (204)")
    func lifecycle() async throws {
        try await withRouter { client, _ in
            let created = try await client.send(.put, "/v1/queues/invoices/trigger", Self.trigger)
            #expect(created.status == .created && created.headers[.location] == "/v1/queues/invoices/trigger")
            let saved = try created.decode(QueueTriggerSnapshot.self)
            #expect(saved.definition.queue == "invoices" && saved.definition.itemsPerJob == 10)
            #expect(saved.lastEvaluation?.evaluation.reason == "fewer ready items than minItemsToTrigger (0 < 31)")
            #expect(try await client.send(.put, "/v1/queues/invoices/trigger", Self.trigger).status == .ok)
            let listed = try await client.send(.get, "/v1/queue-triggers").decode([QueueTriggerSnapshot].self)
            #expect(listed.map(\.definition.queue) == ["invoices"])
            #expect(try await client.send(.delete, "/v1/queues/invoices/trigger").status == .noContent)
            #expect(try await client.send(.get, "/v1/queues/invoices/trigger").errorCode() == "not_found")
            #expect(try await client.send(.delete, "/v1/queues/invoices/trigger").errorCode() == "not_found")
        }
    }

    @Test("a bulk add through the API starts the trigger's jobs, and its evaluation is readable")
    func bulkAddStartsJobs() async throws {
        try await withRouter { client, store in
            _ = try await client.send(.put, "/v1/queues/invoices/trigger", Self.trigger)
            let items = (1...60).map { #"{"reference": "INV-\#($0)"}"# }.joined(separator: ",")
            #expect(try await client.send(.post, "/v1/queues/invoices/items/bulk", #"{"items": [\#(items)]}"#).status
                        == .created)
            let shown = try await client.send(.get, "/v1/queues/invoices/trigger").decode(QueueTriggerSnapshot.self)
            let report = try #require(shown.lastEvaluation)
            #expect(report.cause == "60 items added" && report.startedJobs.count == 3)
            #expect(report.evaluation.inputs.readyItems == 60 && report.evaluation.capacity == 3)
            let job = try await client.send(.get, "/v1/jobs/\(report.startedJobs[0])").decode(JobSnapshot.self)
            #expect(job.launchMethod == .queueTrigger && job.initiator == "queue trigger invoices")
            #expect(try await store.jobs(JobFilter()).count == 3)
        }
    }

    @Test("bad settings are 422 with every problem; an unknown queue 404; an unknown bot 422 unknown_bot")
    func refusals() async throws {
        try await withRouter { client, _ in
            let bad = try await client.send(.put, "/v1/queues/invoices/trigger",
                                            #"{"queue": "other", "bot": "poster", "group": "g1", "recheckMinutes": 5}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.decode(APIErrorBody.self).error.message.contains("differs from the path's"))
            #expect(try bad.decode(APIErrorBody.self).error.message.contains("recheckMinutes must be between 10 and 1440"))
            #expect(try await client.send(.put, "/v1/queues/invoices/trigger", #"{"bot": "poster"}"#).errorCode()
                        == "malformed_json")
            #expect(try await client.send(.put, "/v1/queues/nope/trigger", Self.trigger).status == .notFound)
            #expect(try await client.send(.put, "/v1/queues/invoices/trigger",
                                          #"{"bot": "nobody", "group": "g1"}"#).errorCode() == "unknown_bot")
        }
    }
}
