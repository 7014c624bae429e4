import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API: a bot that starts a bot")
struct ParentJobAPITests {
    func withRouter(_ body: @escaping @Sendable (APIClient, BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let router = buildRouter(store: store, robotQueueSignal: WakeSignal())
            let app = Application(router: router)
            try await app.test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()), store)
            }
        }
    }

    /// A job submitted without a token, and its token (what its bot is given).
    func parentJob(_ client: APIClient, _ store: BotyardStore) async throws -> (id: Int64, token: String) {
        _ = try await client.send(.post, "/v1/bots", #"{"name": "echo", "argv": ["/bin/echo"]}"#)
        let job = try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#).decode(JobCreated.self)
        let token = try await store.database.read { db in
            try String.fetchOne(db, sql: "SELECT apiToken FROM jobs WHERE id = ?", arguments: [job.id])
        }
        return (job.id, try #require(token))
    }

    func submit(_ client: APIClient, _ body: String, token: String) async throws -> TestResponse {
        try await client.client.execute(uri: "/v1/jobs", method: .post, headers: [.authorization: "Bearer \(token)"],
                                        body: ByteBuffer(string: body))
    }

    @Test("a job submitted with a job's token is that job's child: bot-started-by-bot by job N, whatever the body says")
    func childRecorded() async throws {
        try await withRouter { client, store in
            let parent = try await parentJob(client, store)
            let body = #"{"bot": "echo", "group": "g1", "launchMethod": "schedule", "initiator": "someone else"}"#
            let response = try await submit(client, body, token: parent.token)
            #expect(response.status == .created)
            let child = try await client.send(.get, "/v1/jobs/\(try response.decode(JobCreated.self).id)")
                .decode(JobSnapshot.self)
            #expect(child.parentJob == parent.id)
            #expect(child.launchMethod == .botStartedByBot && child.initiator == "job \(parent.id)")
            #expect(child.history?.first?.reason == "submitted (bot-started-by-bot by job \(parent.id))")
            let shown = try await client.send(.get, "/v1/jobs/\(parent.id)").decode(JobSnapshot.self)
            #expect(shown.parentJob == nil && shown.children == [child.id])
        }
    }

    @Test("without a token nothing changes: the body's launch method and initiator, no parent")
    func noToken() async throws {
        try await withRouter { client, _ in
            _ = try await client.send(.post, "/v1/bots", #"{"name": "echo", "argv": ["/bin/echo"]}"#)
            // A manual launch is sync by default, and no worker serves g1: it names queue to be taken in.
            let body = #"{"bot": "echo", "group": "g1", "launchMethod": "manual", "initiator": "cli", "#
                + #""admission": "queue"}"#
            let id = try await client.send(.post, "/v1/jobs", body).decode(JobCreated.self).id
            let job = try await client.send(.get, "/v1/jobs/\(id)").decode(JobSnapshot.self)
            #expect(job.launchMethod == .manual && job.initiator == "cli")
            #expect(job.parentJob == nil && job.children == [])
        }
    }

    @Test("a forged token is 401 invalid_token and stores nothing")
    func forgedToken() async throws {
        try await withRouter { client, store in
            _ = try await parentJob(client, store)
            let response = try await submit(client, #"{"bot": "echo", "group": "g1"}"#, token: "forged")
            #expect(response.status == .unauthorized)
            #expect(try response.errorCode() == "invalid_token")
            #expect(try await store.jobs(JobFilter()).count == 1)
        }
    }

    @Test("a job that has ended cannot start another: its token is refused (401 invalid_token), nothing is stored")
    func endedParent() async throws {
        try await withRouter { client, store in
            let parent = try await parentJob(client, store)
            #expect(try await client.send(.post, "/v1/jobs/\(parent.id)/cancel").status == .ok)
            let response = try await submit(client, #"{"bot": "echo", "group": "g1"}"#, token: parent.token)
            #expect(response.status == .unauthorized)
            let error = try response.decode(APIErrorBody.self).error
            #expect(error.code == "invalid_token")
            #expect(error.message == "job \(parent.id) has ended (cancelled): its token is no longer valid")
            #expect(try await store.jobs(JobFilter()).count == 1)
        }
    }

    @Test("GET /v1/jobs?parent=N lists the children of job N, newest first; a bad parent is 422")
    func parentFilter() async throws {
        try await withRouter { client, store in
            let parent = try await parentJob(client, store)
            let other = try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#)
                .decode(JobCreated.self)
            var children: [Int64] = []
            for _ in 0..<2 {
                let child = try await submit(client, #"{"bot": "echo", "group": "g1"}"#, token: parent.token)
                children.append(try child.decode(JobCreated.self).id)
            }
            let listed = try await client.send(.get, "/v1/jobs?parent=\(parent.id)").decode([JobSnapshot].self)
            #expect(listed.map(\.id) == children.reversed())
            #expect(try await client.send(.get, "/v1/jobs?parent=\(other.id)").decode([JobSnapshot].self).isEmpty)
            #expect(try await client.send(.get, "/v1/jobs?parent=x").errorCode() == "invalid_request")
        }
    }

    @Test("a job's children are found through their own index, not by reading every job")
    func childrenSearchTheirIndex() async throws {
        try await withTemporaryStore { store, _ in
            let plan = try await store.database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + BotyardStore.childrenSQL, arguments: [1])
                    .map { $0["detail"] as String }
            }
            #expect(plan == ["SEARCH jobs USING COVERING INDEX jobs_parent (parentJob=?)"], "\(plan)")
        }
    }
}
