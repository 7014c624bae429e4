import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API")
struct APITests {
    func withRouter(_ body: @escaping @Sendable (APIClient, BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let app = Application(router: buildRouter(store: store, robotQueueSignal: WakeSignal()))
            try await app.test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()), store)
            }
        }
    }

    static let bot = #"{"name": "echo", "argv": ["/bin/echo", "hi"], "timeoutSeconds": 30}"#

    @Test("POST /v1/jobs answers 201 with the id and state, and stores the job")
    func submit() async throws {
        try await withRouter { client, store in
            #expect(try await client.send(.post, "/v1/bots", Self.bot).status == .created)
            let response = try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1", "inputs": {"A": "1"}}"#)
            #expect(response.status == .created)
            let created = try response.decode(JobCreated.self)
            #expect(created.state == .pending)
            #expect(response.headers[.location] == "/v1/jobs/\(created.id)")
            #expect(try await store.job(id: created.id)?.inputs == ["A": "1"])

            let job = try await client.send(.get, "/v1/jobs/\(created.id)").decode(JobSnapshot.self)
            #expect(job.bot == "echo" && job.history?.count == 1)
            let listed = try await client.send(.get, "/v1/jobs?state=pending&bot=echo").decode([JobSnapshot].self)
            #expect(listed.map(\.id) == [created.id])
            #expect(try await client.send(.get, "/v1/jobs?state=queued").decode([JobSnapshot].self).isEmpty)
        }
    }

    @Test("a store that fails answers reads and writes with 503 store_unavailable in JSON, never a bare 500")
    func storeUnavailable() async throws {
        try await withRouter { client, store in
            #expect(try await client.send(.post, "/v1/bots", Self.bot).status == .created)
            let created = try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#).decode(JobCreated.self)
            try await store.database.write { try $0.execute(sql: "DROP TABLE job_history") }

            for (method, path, body) in [(HTTPRequest.Method.get, "/v1/jobs/\(created.id)", nil),
                                         (.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#)] {
                let response = try await client.send(method, path, body)
                #expect(response.status == .serviceUnavailable, "\(method) \(path)")
                let error = try response.decode(APIErrorBody.self).error
                #expect(error.code == "store_unavailable" && error.message.contains("no such table: job_history"))
            }
        }
    }

    @Test("bad input gets a JSON error with a stable code and stores nothing",
          arguments: [
            (#"{"bot": "echo", "group": "g1""#, 400, "malformed_json"),
            (#"{"group": "g1"}"#, 400, "malformed_json"),
            (#"{"bot": "nope", "group": "g1"}"#, 422, "unknown_bot"),
            (#"{"bot": "echo", "group": "g.1"}"#, 422, "invalid_request"),
            (#"{"bot": "echo", "group": "g1", "inputs": {"$(id)": "x"}}"#, 422, "invalid_request"),
            (#"{"bot": "echo", "group": "g1", "environment": "mars"}"#, 422, "invalid_request"),
            (#"{"bot": "echo", "group": "g1", "timeoutSeconds": 0}"#, 422, "invalid_request"),
            (#"{"bot": "echo", "group": "g1", "admission": "later"}"#, 400, "malformed_json"),
            (#"{"bot": "echo", "group": "g1", "host": "h1"}"#, 422, "invalid_request"),
            (#"{"bot": "echo", "group": "g1", "account": "r1", "robotQueue": {"waitSeconds": 1, "maxAttempts": 0}}"#, 422,
             "invalid_request"),
          ])
    func badJobs(body: String, status: Int, code: String) async throws {
        try await withRouter { client, store in
            _ = try await client.send(.post, "/v1/bots", Self.bot)
            let response = try await client.send(.post, "/v1/jobs", body)
            #expect(response.status.code == status)
            #expect(try response.errorCode() == code)
            #expect(try await store.jobs(JobFilter()).isEmpty)
            #expect(try await store.outboxCount() == 0)
        }
    }

    @Test("an oversized body is refused with 413")
    func oversized() async throws {
        try await withRouter { client, store in
            let huge = #"{"bot": "echo", "group": "g1", "inputs": {"A": ""# + String(repeating: "x", count: 2_000_000) + #""}}"#
            let response = try await client.send(.post, "/v1/jobs", huge)
            #expect(response.status == .contentTooLarge)
            #expect(try response.errorCode() == "payload_too_large")
            #expect(try await store.jobs(JobFilter()).isEmpty)
        }
    }

    @Test("an invalid bot definition is refused with every problem named")
    func badBot() async throws {
        try await withRouter { client, store in
            let response = try await client.send(.post, "/v1/bots", #"{"name": "../x", "argv": []}"#)
            #expect(response.status == .unprocessableContent)
            let message = try response.decode(APIErrorBody.self).error.message
            #expect(message.contains("name") && message.contains("argv"))
            #expect(try await store.bots().isEmpty)
        }
    }

    @Test("unknown jobs are 404, finished ones cannot be cancelled (409), bad ids and filters are 422")
    func notFoundAndConflict() async throws {
        try await withRouter { client, _ in
            #expect(try await client.send(.get, "/v1/jobs/99").status == .notFound)
            #expect(try await client.send(.get, "/v1/jobs/abc").status == .unprocessableContent)
            #expect(try await client.send(.post, "/v1/jobs/99/cancel").errorCode() == "not_found")
            #expect(try await client.send(.get, "/v1/jobs?state=bogus").status == .unprocessableContent)
            _ = try await client.send(.post, "/v1/bots", Self.bot)
            _ = try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#)
            let cancelled = try await client.send(.post, "/v1/jobs/1/cancel")
            #expect(cancelled.status == .ok)
            #expect(try cancelled.decode(JobSnapshot.self).state == .cancelled)
            let again = try await client.send(.post, "/v1/jobs/1/cancel")
            #expect(again.status == .conflict)
            #expect(try again.errorCode() == "conflict")
        }
    }

    @Test("group settings are validated: a bad name, bound or launch-admission entry changes nothing",
          arguments: [
            ("/v1/groups/g.1", #"{"maxQueued": 2}"#, 422, "invalid_request"),
            ("/v1/groups/g1", #"{"maxQueued": -1}"#, 422, "invalid_request"),
            ("/v1/groups/g1", #"{"maxQueued": "many"}"#, 400, "malformed_json"),
            ("/v1/groups/g1", #"{"launchAdmission": {"cron": "queue"}}"#, 422, "invalid_request"),
            ("/v1/groups/g1", #"{"launchAdmission": {"manual": "later"}}"#, 422, "invalid_request"),
            ("/v1/groups/g1", #"{"launchAdmission": {"manual": 1}}"#, 400, "malformed_json"),
            ("/v1/groups/g1", #"{"launchAdmission": ["manual"]}"#, 400, "malformed_json"),
          ])
    func badGroups(path: String, body: String, status: Int, code: String) async throws {
        try await withRouter { client, store in
            let response = try await client.send(.put, path, body)
            #expect(response.status.code == status)
            #expect(try response.errorCode() == code)
            #expect(try await store.groups().isEmpty)
        }
    }

    @Test("PUT /v1/groups/{name} replaces every setting, the launch-admission table too; GET shows it in full")
    func launchAdmissionTable() async throws {
        try await withRouter { client, _ in
            let set = try await client.send(.put, "/v1/groups/g1",
                                            #"{"maxQueued": 0, "launchAdmission": {"manual": "queue", "api": "sync"}}"#)
            #expect(set.status == .ok)
            let group = try set.decode(GroupStatus.self)
            #expect(group.maxQueued == 0)
            #expect(group.launchAdmission == LaunchAdmissionTable([.manual: .queue, .api: .sync]).effective)
            let listed = try await client.send(.get, "/v1/groups").decode([GroupStatus].self)
            #expect(listed == [group])

            // A PUT without the table (or without maxQueued) puts it back to its default.
            let reset = try await client.send(.put, "/v1/groups/g1", #"{"maxQueued": 5}"#).decode(GroupStatus.self)
            #expect(reset.maxQueued == 5 && reset.launchAdmission == LaunchAdmissionTable().effective)

            let bad = try await client.send(.put, "/v1/groups/g1", #"{"launchAdmission": {"api": "later"}}"#)
            #expect(bad.status == .unprocessableContent)
            let message = try bad.decode(APIErrorBody.self).error.message
            #expect(message == "invalid value at 'launchAdmission.api': unknown admission mode 'later' for api; one of "
                    + "queue, bounded, sync")
        }
    }

    @Test("a launch naming no mode gets its method's entry: manual is a 429 at once; a named mode wins")
    func launchMethodPicksMode() async throws {
        try await withRouter { client, store in
            #expect(try await client.send(.post, "/v1/bots", Self.bot).status == .created)
            let body = #"{"bot": "echo", "group": "g1", "launchMethod": "manual"}"#
            let manual = try await client.send(.post, "/v1/jobs", body)
            #expect(manual.status == .tooManyRequests)
            let error = try manual.decode(APIErrorBody.self).error
            #expect(error.code == "no_slots_available")
            #expect(error.message == "No slots available: no worker of group g1 is active")
            #expect(try await store.job(id: try #require(error.jobID))?.state == .rejected)
            let named = #"{"bot": "echo", "group": "g1", "launchMethod": "manual", "admission": "queue"}"#
            #expect(try await client.send(.post, "/v1/jobs", named).status == .created)
            #expect(try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#).status == .created)
        }
    }

    @Test("pause of a job that is not running and resume of one that is not paused answer 409 conflict; unknown jobs 404")
    func pauseResumeErrors() async throws {
        try await withRouter { client, store in
            #expect(try await client.send(.post, "/v1/bots", Self.bot).status == .created)
            let created = try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#).decode(JobCreated.self)
            for (action, message) in [("pause", "job \(created.id) is pending; only a running job can be paused"),
                                      ("resume", "job \(created.id) is pending; only a paused job can be resumed")] {
                let response = try await client.send(.post, "/v1/jobs/\(created.id)/\(action)")
                #expect(response.status == .conflict)
                let error = try response.decode(APIErrorBody.self).error
                #expect(error.code == "conflict" && error.message == message)
                #expect(try await client.send(.post, "/v1/jobs/999/\(action)").status == .notFound)
            }
            #expect(try await store.job(id: created.id)?.history?.count == 1)
            #expect(try await client.send(.get, "/v1/jobs/\(created.id)/cleanup-log").status == .notFound)
        }
    }

    @Test("clear-hold of an account no active worker serves is 404; of one not held, 409; bad names 422")
    func clearHoldErrors() async throws {
        try await withRouter { client, _ in
            #expect(try await client.send(.post, "/v1/hosts/h1/accounts/a1/clear-hold").status == .notFound)
            let bad = try await client.send(.post, "/v1/hosts/h1/accounts/a.b/clear-hold")
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.errorCode() == "invalid_request")
        }
    }
}
