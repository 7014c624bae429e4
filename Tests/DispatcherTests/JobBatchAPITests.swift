import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API: job batches")
struct JobBatchAPITests {
    func withRouter(_ body: @escaping @Sendable (APIClient, BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(BotDefinition(name: "echo", argv: ["/bin/echo"], timeoutSeconds: 30))
            try await store.saveBot(BotDefinition(name: "mail", argv: ["/bin/true"], timeoutSeconds: 30))
            let app = Application(router: buildRouter(store: store, robotQueueSignal: WakeSignal()))
            try await app.test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()), store)
            }
        }
    }

    static func batch(_ jobs: [SubmitJobRequest]) throws -> String {
        String(decoding: try JSONCodec.encode(SubmitJobBatchRequest(jobs: jobs)), as: UTF8.self)
    }

    @Test("a batch stores every job in the order sent, each pending with its outbox row, and answers 201 with them")
    func storesAll() async throws {
        try await withRouter { client, store in
            let jobs = (0..<250).map { index in
                SubmitJobRequest(bot: index.isMultiple(of: 2) ? "echo" : "mail", group: "g1", inputs: ["N": "\(index)"])
            }
            let response = try await client.send(.post, "/v1/jobs/batch", try Self.batch(jobs))
            #expect(response.status == .created)
            let created = try response.decode(JobBatchCreated.self).jobs
            #expect(created.count == 250 && created.allSatisfy { $0.state == .pending })
            #expect(created.map(\.id) == created.map(\.id).sorted(), "in the order sent")
            let stored = try #require(try await store.job(id: created[7].id))
            #expect(stored.bot == "mail" && stored.inputs == ["N": "7"] && stored.launchMethod == .api)
            #expect(try await store.outboxCount() == 250)
        }
    }

    @Test("a batch with bad entries stores nothing and names every bad entry by its index")
    func allOrNothing() async throws {
        try await withRouter { client, store in
            let jobs = [SubmitJobRequest(bot: "echo", group: "g1"), SubmitJobRequest(bot: "echo", group: "bad group"),
                        SubmitJobRequest(bot: "echo", group: "g1", environment: "moon")]
            let invalid = try await client.send(.post, "/v1/jobs/batch", try Self.batch(jobs))
            #expect(invalid.status == .unprocessableContent)
            let message = try invalid.decode(APIErrorBody.self).error.message
            #expect(message.contains("jobs[1]: "))
            #expect(message.contains("jobs[2]: environment must be one of dev, staging, prod"))
            #expect(!message.contains("jobs[0]"))

            let unknown = [SubmitJobRequest(bot: "echo", group: "g1"), SubmitJobRequest(bot: "ghost", group: "g1")]
            let refused = try await client.send(.post, "/v1/jobs/batch", try Self.batch(unknown))
            #expect(try refused.decode(APIErrorBody.self).error.message == "jobs[1]: no bot named 'ghost'")
            #expect(try await store.jobs(JobFilter()).isEmpty)
            #expect(try await store.outboxCount() == 0)
        }
    }

    @Test("an empty batch, and one over the limit of 1,000 jobs, are 422")
    func limits() async throws {
        try await withRouter { client, _ in
            let empty = try await client.send(.post, "/v1/jobs/batch", #"{"jobs": []}"#)
            #expect(try empty.decode(APIErrorBody.self).error.message == "jobs must hold at least one job")
            let many = Array(repeating: SubmitJobRequest(bot: "echo", group: "g1"), count: 1_001)
            let tooMany = try await client.send(.post, "/v1/jobs/batch", try Self.batch(many))
            #expect(try tooMany.decode(APIErrorBody.self).error.message
                == "a batch may hold at most 1000 jobs, not 1001")
        }
    }
}
