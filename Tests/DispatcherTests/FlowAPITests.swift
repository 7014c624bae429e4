import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API: pipelines and workflows")
struct FlowAPITests {
    func withRouter(_ body: @escaping @Sendable (APIClient, BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let app = Application(router: buildRouter(store: store, robotQueueSignal: WakeSignal()))
            try await app.test(.router) { client in
                let client = APIClient(client: client, token: try await store.testToken())
                for name in ["read", "post"] {
                    _ = try await client.send(.post, "/v1/bots", #"{"name": "\#(name)", "argv": ["/bin/true"]}"#)
                }
                try await body(client, store)
            }
        }
    }

    static let pipeline = #"""
        {"name": "invoices", "group": "g1", "steps": [
            {"bot": "read", "onFailure": "retry", "retries": 2},
            {"bot": "post", "onFailure": "continue"}]}
        """#

    @Test("a pipeline is created (201), read, listed, replaced (PUT), and deleted (204)")
    func lifecycle() async throws {
        try await withRouter { client, _ in
            let created = try await client.send(.post, "/v1/pipelines", Self.pipeline)
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/v1/pipelines/invoices")
            #expect(try await client.send(.post, "/v1/pipelines", Self.pipeline).errorCode() == "already_exists")
            let shown = try await client.send(.get, "/v1/pipelines/invoices").decode(PipelineDefinition.self)
            #expect(shown.environment == "prod" && shown.steps[0].retries == 2 && shown.steps[1].onFailure == .continue)
            let replaced = try await client.send(.put, "/v1/pipelines/invoices",
                                                 #"{"name": "invoices", "group": "g2", "steps": [{"bot": "read"}]}"#)
            #expect(replaced.status == .ok)
            #expect(try await client.send(.get, "/v1/pipelines").decode([PipelineDefinition].self).map(\.group) == ["g2"])
            #expect(try await client.send(.delete, "/v1/pipelines/invoices").status == .noContent)
            #expect(try await client.send(.get, "/v1/pipelines/invoices").status == .notFound)
            #expect(try await client.send(.delete, "/v1/pipelines/invoices").errorCode() == "not_found")
        }
    }

    @Test("a run starts with 201 and its id; it is listed and shown with each step's job")
    func runs() async throws {
        try await withRouter { client, _ in
            _ = try await client.send(.post, "/v1/pipelines", Self.pipeline)
            let response = try await client.send(.post, "/v1/pipelines/invoices/runs", #"{"initiator": "alice"}"#)
            #expect(response.status == .created)
            let created = try response.decode(FlowRunCreated.self)
            #expect(response.headers[.location] == "/v1/pipeline-runs/\(created.id)")
            let run = try await client.send(.get, "/v1/pipeline-runs/\(created.id)").decode(FlowRunSnapshot.self)
            #expect(run.initiator == "alice" && run.kind == .pipeline && run.name == "invoices")
            #expect(run.steps?.map(\.state) == [.running, .waiting])
            #expect(run.steps?[0].jobState == .pending && run.steps?[0].onFailure == .retry)
            let listed = try await client.send(.get, "/v1/pipelines/invoices/runs").decode([FlowRunSnapshot].self)
            #expect(listed.map(\.id) == [created.id])
            #expect(try await client.send(.post, "/v1/pipelines/invoices/runs").status == .created, "a body is optional")
        }
    }

    @Test("pause, resume and cancel of a run answer 409 with a stable code when its state does not allow them")
    func controlConflicts() async throws {
        try await withRouter { client, _ in
            _ = try await client.send(.post, "/v1/pipelines", Self.pipeline)
            let id = try await client.send(.post, "/v1/pipelines/invoices/runs").decode(FlowRunCreated.self).id
            #expect(try await client.send(.post, "/v1/pipeline-runs/\(id)/resume").errorCode() == "run_not_paused")
            #expect(try await client.send(.post, "/v1/pipeline-runs/\(id)/pause").decode(FlowRunSnapshot.self).state == .paused)
            #expect(try await client.send(.post, "/v1/pipeline-runs/\(id)/pause").errorCode() == "run_not_running")
            let cancelled = try await client.send(.post, "/v1/pipeline-runs/\(id)/cancel")
            #expect(try cancelled.decode(FlowRunSnapshot.self).state == .cancelled)
            let again = try await client.send(.post, "/v1/pipeline-runs/\(id)/cancel")
            #expect(again.status == .conflict)
            #expect(try again.errorCode() == "run_ended")
            #expect(try await client.send(.post, "/v1/pipeline-runs/999/pause").errorCode() == "not_found")
            #expect(try await client.send(.get, "/v1/workflow-runs/\(id)").status == .notFound)
            #expect(try await client.send(.get, "/v1/pipeline-runs/x").status == .unprocessableContent)
            #expect(try await client.send(.post, "/v1/pipelines/nope/runs").errorCode() == "not_found")
            let huge = #"{"initiator": ""# + String(repeating: "x", count: 2_000_000) + #""}"#
            #expect(try await client.send(.post, "/v1/pipelines/invoices/runs", huge).errorCode() == "payload_too_large")
            #expect(try await client.send(.post, "/v1/pipelines/invoices/runs", "{").errorCode() == "malformed_json")
        }
    }

    @Test("a bad workflow is refused with every problem in one 422, and nothing is stored")
    func badWorkflow() async throws {
        try await withRouter { client, store in
            let response = try await client.send(.post, "/v1/workflows", #"""
                {"name": "wf", "group": "g1",
                 "nodes": [{"id": "a", "bot": "read"}, {"id": "b", "bot": "ghost"}, {"id": "c", "bot": "post"},
                           {"id": "a", "bot": "read"}],
                 "edges": [{"from": "a", "to": "c"}, {"from": "c", "to": "a", "on": "always"},
                           {"from": "a", "to": "zz"}]}
                """#)
            #expect(response.status == .unprocessableContent)
            let error = try response.decode(APIErrorBody.self).error
            #expect(error.code == "invalid_workflow")
            #expect(error.message == "node 'b': no bot named 'ghost'; duplicate node id 'a'; "
                + "edge 3 (a → zz) names an unknown node: 'zz'; cycle: a → c → a; "
                + "node 'a' cannot be reached from any root; node 'c' cannot be reached from any root")
            #expect(try await store.flowDefinitions(WorkflowDefinition.self).isEmpty)
            let empty = try await client.send(.post, "/v1/workflows", #"{"name": "wf", "group": "g1", "nodes": []}"#)
            #expect(try empty.decode(APIErrorBody.self).error.message
                        == "the graph is empty: a workflow needs at least one node")
        }
    }

    @Test("bad pipelines: unknown bots, bad policies, a name that differs from the path, broken JSON",
          arguments: [
            (HTTPRequest.Method.post, "/v1/pipelines", #"{"name": "p", "group": "g1", "steps": [{"bot": "ghost"}]}"#,
             "invalid_pipeline"),
            (.post, "/v1/pipelines", #"{"name": "p", "group": "g1", "steps": [{"bot": "read", "onFailure": "retry"}]}"#,
             "invalid_pipeline"),
            (.post, "/v1/pipelines", #"{"name": "p", "group": "g1", "steps": [{"bot": "read", "onFailure": "panic"}]}"#,
             "malformed_json"),
            (.put, "/v1/pipelines/q", #"{"name": "p", "group": "g1", "steps": [{"bot": "read"}]}"#, "invalid_pipeline"),
            (.post, "/v1/pipelines", #"{"name": "p", "group": "g1", "steps": ["#, "malformed_json"),
          ])
    func badPipelines(method: HTTPRequest.Method, path: String, body: String, code: String) async throws {
        try await withRouter { client, store in
            let response = try await client.send(method, path, body)
            #expect(try response.errorCode() == code)
            #expect(try await store.flowDefinitions(PipelineDefinition.self).isEmpty)
        }
    }
}
