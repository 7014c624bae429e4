import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API: work queues and items")
struct WorkQueueAPITests {
    func withRouter(_ body: @escaping @Sendable (APIClient, BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let app = Application(router: buildRouter(store: store, robotQueueSignal: WakeSignal()))
            try await app.test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()), store)
            }
        }
    }

    static let queue = #"{"name": "invoices", "maxRetries": 2, "leaseSeconds": 60, "uniqueReferences": true}"#

    @Test("queues: 201 on create, 409 when taken, shown with counts by state, 404 when unknown, 204 on delete")
    func queues() async throws {
        try await withRouter { client, _ in
            let created = try await client.send(.post, "/v1/queues", Self.queue)
            #expect(created.status == .created && created.headers[.location] == "/v1/queues/invoices")
            #expect(try await client.send(.post, "/v1/queues", Self.queue).errorCode() == "already_exists")
            #expect(try await client.send(.post, "/v1/queues", #"{"name": "x", "leaseSeconds": 0}"#).errorCode()
                        == "invalid_request")
            let shown = try await client.send(.get, "/v1/queues/invoices").decode(WorkQueueView.self)
            #expect(shown.definition.maxRetries == 2 && shown.counts["new"] == 0)
            #expect(try await client.send(.get, "/v1/queues/nope").status == .notFound)
            #expect(try await client.send(.delete, "/v1/queues/invoices").status == .noContent)
            #expect(try await client.send(.post, "/v1/queues/invoices/claim").status == .notFound)
        }
    }

    @Test("items: one (201), an oversized payload (413), a taken reference (409); a bad bulk adds nothing (422, every item named)")
    func items() async throws {
        try await withRouter { client, store in
            _ = try await client.send(.post, "/v1/queues", Self.queue)
            let one = try await client.send(.post, "/v1/queues/invoices/items",
                                            #"{"reference": "INV-1", "priority": "high", "payload": {"total": 12.5}}"#)
            #expect(one.status == .created)
            let item = try one.decode(WorkItemSnapshot.self)
            #expect(item.state == .new && item.payload == .object(["total": .number(12.5)]))
            let huge = #"{"payload": ""# + String(repeating: "x", count: 70_000) + #""}"#
            #expect(try await client.send(.post, "/v1/queues/invoices/items", huge).errorCode() == "payload_too_large")
            #expect(try await client.send(.post, "/v1/queues/invoices/items", #"{"reference": "INV-1"}"#).errorCode()
                        == "duplicate_reference")
            let bad = try await client.send(.post, "/v1/queues/invoices/items/bulk",
                                            #"{"items": [{"reference": "INV-2"}, {"reference": "INV-1"}, {"reference": "INV-2"}]}"#)
            #expect(bad.status == .unprocessableContent)
            let error = try bad.decode(APIErrorBody.self).error
            #expect(error.code == "invalid_items")
            #expect(error.message == "item 2: reference 'INV-1' is already in queue invoices; item 3: reference 'INV-2' repeats item 1")
            #expect(try await store.items(in: "invoices").count == 1)
            let bulk = (1...2000).map { #"{"reference": "B-\#($0)"}"# }.joined(separator: ",")
            let added = try await client.send(.post, "/v1/queues/invoices/items/bulk", #"{"items": [\#(bulk)]}"#)
            #expect(added.status == .created)
            #expect(try added.decode(BulkItemsAdded.self).ids.count == 2000)
            let listed = try await client.send(.get, "/v1/queues/invoices/items?state=new&limit=5").decode([WorkItemSnapshot].self)
            #expect(listed.map(\.reference) == ["INV-1", "B-1", "B-2", "B-3", "B-4"])
        }
    }

    @Test("claim (200 with a token, 204 when empty), extend, complete; a stale token gets 409 and changes nothing")
    func claimAndSettle() async throws {
        try await withRouter { client, _ in
            _ = try await client.send(.post, "/v1/queues", Self.queue)
            _ = try await client.send(.post, "/v1/queues/invoices/items", #"{"reference": "INV-1"}"#)
            let claimed = try await client.send(.post, "/v1/queues/invoices/claim", #"{"jobID": 7}"#).decode(ClaimedItem.self)
            #expect(claimed.item.state == .inProgress && claimed.item.claimedByJob == 7)
            #expect(try await client.send(.post, "/v1/queues/invoices/claim").status == .noContent)
            let id = claimed.item.id
            let token = #"{"leaseToken": "\#(claimed.leaseToken)"}"#
            #expect(try await client.send(.post, "/v1/items/\(id)/extend", token).status == .ok)
            let wrong = try await client.send(.post, "/v1/items/\(id)/complete", #"{"leaseToken": "forged"}"#)
            #expect(wrong.status == .conflict)
            #expect(try wrong.errorCode() == "lease_superseded")
            #expect(try await client.send(.post, "/v1/items/\(id)/fail", token).errorCode() == "invalid_request")
            let done = try await client.send(.post, "/v1/items/\(id)/complete",
                                             #"{"leaseToken": "\#(claimed.leaseToken)", "output": {"posted": true}}"#)
            #expect(try done.decode(WorkItemSnapshot.self).output == .object(["posted": .bool(true)]))
            #expect(try await client.send(.post, "/v1/items/\(id)/complete", token).errorCode() == "item_settled")
            let detail = try await client.send(.get, "/v1/items/\(id)").decode(WorkItemDetail.self)
            #expect(detail.history.map(\.to) == [.new, .inProgress, .inProgress, .successful])
            #expect(try await client.send(.get, "/v1/items/999").status == .notFound)
        }
    }

    @Test("eight claimers at once on one queue never get the same item, and every item is claimed once")
    func concurrentClaims() async throws {
        try await withRouter { client, _ in
            _ = try await client.send(.post, "/v1/queues", Self.queue)
            let bulk = (1...400).map { #"{"reference": "C-\#($0)"}"# }.joined(separator: ",")
            _ = try await client.send(.post, "/v1/queues/invoices/items/bulk", #"{"items": [\#(bulk)]}"#)
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let response = try await client.send(.post, "/v1/queues/invoices/claim")
                            guard response.status == .ok else { return mine }
                            let item = try response.decode(ClaimedItem.self)
                            mine.append(item.item.id)
                            _ = try await client.send(.post, "/v1/items/\(item.item.id)/complete",
                                                      #"{"leaseToken": "\#(item.leaseToken)"}"#)
                        }
                    }
                }
                var all: [[Int64]] = []
                for try await ids in group { all.append(ids) }
                return all
            }
            let ids = claimed.flatMap { $0 }
            #expect(ids.count == 400 && Set(ids).count == 400)
            #expect(claimed.filter { !$0.isEmpty }.count > 1, "claims were spread over the claimers")
            let view = try await client.send(.get, "/v1/queues/invoices").decode(WorkQueueView.self)
            #expect(view.counts["successful"] == 400)
        }
    }

    @Test("a bot's job token names the claiming job; another job's token cannot settle the item (403), a forged one is 401")
    func jobTokens() async throws {
        try await withRouter { client, store in
            _ = try await client.send(.post, "/v1/queues", Self.queue)
            _ = try await client.send(.post, "/v1/queues/invoices/items", #"{"reference": "INV-1"}"#)
            _ = try await client.send(.post, "/v1/bots", #"{"name": "echo", "argv": ["/bin/echo"]}"#)
            var tokens: [Int64: String] = [:]
            for _ in 0..<2 {
                let job = try await client.send(.post, "/v1/jobs", #"{"bot": "echo", "group": "g1"}"#).decode(JobCreated.self)
                tokens[job.id] = try await store.database.read { db in
                    try String.fetchOne(db, sql: "SELECT apiToken FROM jobs WHERE id = ?", arguments: [job.id])
                }
            }
            let (first, second) = (tokens[1]!, tokens[2]!)
            #expect(first != second)
            func send(_ path: String, _ body: String?, token: String) async throws -> TestResponse {
                try await client.client.execute(uri: path, method: .post, headers: [.authorization: "Bearer \(token)"],
                                                body: body.map { ByteBuffer(string: $0) })
            }
            #expect(try await send("/v1/queues/invoices/claim", nil, token: "forged").errorCode() == "invalid_token")
            #expect(try await send("/v1/queues/invoices/claim", #"{"jobID": 2}"#, token: first).errorCode() == "job_mismatch")
            let claimed = try await send("/v1/queues/invoices/claim", nil, token: first).decode(ClaimedItem.self)
            #expect(claimed.item.claimedByJob == 1)
            let body = #"{"leaseToken": "\#(claimed.leaseToken)"}"#
            let stolen = try await send("/v1/items/\(claimed.item.id)/complete", body, token: second)
            #expect(stolen.status == .forbidden)
            #expect(try stolen.errorCode() == "not_your_item")
            #expect(try await send("/v1/items/\(claimed.item.id)/complete", body, token: first).status == .ok)
        }
    }
}
