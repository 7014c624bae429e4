import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API: tokens, roles and the audit log")
struct AccessAPITests {
    /// The router on a fresh store, a client holding an admin token, and the store.
    func withRouter(deferredWritesWait: Duration = .milliseconds(20),
                    _ body: @escaping @Sendable (APIClient, BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore(deferredWritesWait: deferredWritesWait) { store, _ in
            let router = buildRouter(store: store, robotQueueSignal: WakeSignal())
            try await Application(router: router).test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()), store)
            }
        }
    }

    static let bot = #"{"name": "echo", "argv": ["/bin/echo", "hi"]}"#
    static let job = #"{"bot": "echo", "group": "g1"}"#

    @Test("without a token a route answers 401 unauthenticated with WWW-Authenticate: Bearer; health stays open")
    func noToken() async throws {
        try await withRouter { admin, _ in
            let anonymous = admin.with(token: nil)
            let refused = try await anonymous.send(.get, "/v1/jobs")
            #expect(refused.status == .unauthorized)
            #expect(try refused.errorCode() == "unauthenticated")
            #expect(refused.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await anonymous.send(.get, "/metrics").status == .unauthorized)
            #expect(try await anonymous.send(.get, "/v1/health").status == .ok)
        }
    }

    @Test("a token that is not one — unknown, tampered with, or not sent as Bearer — is 401 invalid_token; `bearer` is Bearer")
    func invalidTokens() async throws {
        try await withRouter { admin, _ in
            let secret = try #require(admin.token)
            let tampered = String(secret.dropLast()) + (secret.last == "0" ? "1" : "0")
            let unknown = APITokenSecret.generate().text
            for token in [tampered, unknown, "not-a-token"] {
                let response = try await admin.send(.get, "/v1/jobs", token: token)
                #expect(response.status == .unauthorized, "\(token)")
                #expect(try response.errorCode() == "invalid_token")
            }
            let lowercase = try await admin.client.execute(uri: "/v1/jobs", method: .get,
                                                           headers: [.authorization: "bearer \(secret)"])
            #expect(lowercase.status == .ok, "the scheme's name is case-insensitive")
            let basic = try await admin.client.execute(uri: "/v1/jobs", method: .get,
                                                       headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.status == .unauthorized)
            #expect(try basic.errorCode() == "invalid_token")
        }
    }

    /// What each role gets from a read, a run and a definition change (403 `forbidden` below the route's role).
    @Test("a viewer reads; an operator also runs jobs; only an admin changes definitions", arguments: Role.allCases)
    func roles(role: Role) async throws {
        try await withRouter { admin, store in
            #expect(try await admin.send(.post, "/v1/bots", Self.bot).status == .created)
            let client = admin.with(token: try await store.testToken(role))
            #expect(try await client.send(.get, "/v1/jobs").status == .ok)
            #expect(try await client.send(.get, "/metrics").status == .ok)
            let submitted = try await client.send(.post, "/v1/jobs", Self.job)
            #expect(submitted.status == (role >= .operator ? .created : .forbidden))
            let defined = try await client.send(.post, "/v1/bots", #"{"name": "other", "argv": ["/bin/true"]}"#)
            #expect(defined.status == (role == .admin ? .created : .forbidden))
            let tokens = try await client.send(.get, "/v1/tokens")
            #expect(tokens.status == (role == .admin ? .ok : .forbidden))
            if role != .admin {
                #expect(try defined.errorCode() == "forbidden")
                #expect(try defined.decode(APIErrorBody.self).error.message.hasSuffix(
                    "has the role \(role.rawValue); this needs admin"))
            }
            let me = try await client.send(.get, "/v1/me").decode(CallerSummary.self)
            #expect(me.role == role && me.kind == .token)
        }
    }

    @Test("a token made through the API works at once, is listed without its secret, and is refused once revoked")
    func tokenLifecycle() async throws {
        try await withRouter { admin, _ in
            let response = try await admin.send(.post, "/v1/tokens", #"{"name": "ci", "role": "operator"}"#)
            #expect(response.status == .created)
            let created = try response.decode(CreatedAPIToken.self)
            #expect(response.headers[.location] == "/v1/tokens/\(created.token.id)")
            #expect(created.secret.hasPrefix("byt_\(created.token.id)_"))
            let ci = admin.with(token: created.secret)
            #expect(try await ci.send(.post, "/v1/bots", Self.bot).status == .forbidden)
            #expect(try await ci.send(.get, "/v1/me").decode(CallerSummary.self)
                        == CallerSummary(name: "ci", role: .operator, kind: .token))

            let listed = try await admin.send(.get, "/v1/tokens")
            #expect(!String(buffer: listed.body).contains(created.secret.suffix(64)))
            #expect(try listed.decode(APITokenList.self).tokens.contains(created.token))

            #expect(try await admin.send(.delete, "/v1/tokens/\(created.token.id)").status == .noContent)
            let refused = try await ci.send(.get, "/v1/jobs")
            #expect(refused.status == .unauthorized)
            #expect(try refused.errorCode() == "invalid_token")
            let revoked = try await admin.send(.get, "/v1/tokens").decode(APITokenList.self).tokens
                .first { $0.id == created.token.id }
            #expect(revoked?.revokedAt != nil)
            #expect(try await admin.send(.delete, "/v1/tokens/000000000000").status == .notFound)
        }
    }

    @Test("a live token's name is taken (409) until it is revoked; a bad name or role is refused")
    func tokenNames() async throws {
        try await withRouter { admin, _ in
            let first = try await admin.send(.post, "/v1/tokens", #"{"name": "ci", "role": "viewer"}"#)
                .decode(CreatedAPIToken.self)
            let again = try await admin.send(.post, "/v1/tokens", #"{"name": "ci", "role": "viewer"}"#)
            #expect(again.status == .conflict)
            #expect(try again.errorCode() == "conflict")
            #expect(try await admin.send(.delete, "/v1/tokens/\(first.token.id)").status == .noContent)
            #expect(try await admin.send(.post, "/v1/tokens", #"{"name": "ci", "role": "viewer"}"#).status == .created)

            for body in [#"{"name": "", "role": "viewer"}"#, #"{"name": "a/b", "role": "viewer"}"#,
                         #"{"name": "\#(String(repeating: "x", count: 65))", "role": "viewer"}"#] {
                let response = try await admin.send(.post, "/v1/tokens", body)
                #expect(response.status == .unprocessableContent, "\(body)")
                #expect(try response.errorCode() == "invalid_request")
            }
            #expect(try await admin.send(.post, "/v1/tokens", #"{"name": "x", "role": "root"}"#).status == .badRequest)
        }
    }

    @Test("the store keeps a token's hash only: its secret is in neither the database nor its WAL")
    func storedHashed() async throws {
        try await withTemporaryStore { store, path in
            let secret = try await store.testToken(.viewer)
            let key = try #require(secret.split(separator: "_").last)
            for file in [path, path + "-wal"] {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
                #expect(bytes.range(of: Data(key.utf8)) == nil, "\(file)")
            }
            let hashes = try await store.database.read { db in
                try String.fetchAll(db, sql: "SELECT keyHash FROM api_tokens")
            }
            #expect(hashes == [try #require(APITokenSecret(parsing: secret)).keyHash])
        }
    }

    @Test("a bot's job token acts as an operator while its job lives")
    func jobToken() async throws {
        try await withRouter { admin, store in
            #expect(try await admin.send(.post, "/v1/bots", Self.bot).status == .created)
            let job = try await admin.send(.post, "/v1/jobs", Self.job).decode(JobCreated.self)
            let token = try #require(try await store.database.read { db in
                try String.fetchOne(db, sql: "SELECT apiToken FROM jobs WHERE id = ?", arguments: [job.id])
            })
            let bot = admin.with(token: token)
            #expect(try await bot.send(.get, "/v1/me").decode(CallerSummary.self)
                        == CallerSummary(name: "job \(job.id)", role: .operator, kind: .job))
            let defined = try await bot.send(.post, "/v1/bots", #"{"name": "b2", "argv": ["/bin/true"]}"#)
            #expect(defined.status == .forbidden)
        }
    }

    @Test("every changing request is in the audit log — who, what, when, the answer — refusals too; reads are not")
    func auditLog() async throws {
        // Entries commit only with another write or when the audit log is read: never by their wait.
        try await withRouter(deferredWritesWait: .seconds(60)) { admin, store in
            let viewer = admin.with(token: try await store.testToken(.viewer))
            let started = Date()
            #expect(try await admin.send(.post, "/v1/bots", Self.bot).status == .created)
            #expect(try await admin.send(.post, "/v1/jobs", #"{"bot": "nobody", "group": "g1"}"#).status
                        == .unprocessableContent)
            #expect(try await viewer.send(.post, "/v1/jobs?x=1", Self.job).status == .forbidden)
            #expect(try await admin.send(.post, "/v1/jobs", Self.job, token: nil).status == .unauthorized)
            #expect(try await viewer.send(.get, "/v1/jobs").status == .ok)

            let entries = try await admin.send(.get, "/v1/audit").decode(AuditPage.self).entries
            let adminName = try await admin.send(.get, "/v1/me").decode(CallerSummary.self).name
            let viewerName = try await viewer.send(.get, "/v1/me").decode(CallerSummary.self).name
            let seen = entries.reversed().map {
                "\($0.caller) \($0.role?.rawValue ?? "-") \($0.method) \($0.path) \($0.status)"
            }
            #expect(seen == [
                "token \(adminName) admin POST /v1/bots 201",
                "token \(adminName) admin POST /v1/jobs 422",
                "token \(viewerName) viewer POST /v1/jobs 403",
                "anonymous - POST /v1/jobs 401",
            ])
            #expect(entries.allSatisfy { $0.at >= started.addingTimeInterval(-1) && $0.at <= Date() })

            try #require(entries.count == 4)
            let older = try await admin.send(.get, "/v1/audit?limit=2&before=\(entries[1].id)").decode(AuditPage.self)
            #expect(older.entries == Array(entries[2...3]))
            #expect(try await viewer.send(.get, "/v1/audit").status == .forbidden)
            for query in ["limit=0", "limit=1001", "limit=x", "before=x"] {
                #expect(try await admin.send(.get, "/v1/audit?\(query)").status == .unprocessableContent, "\(query)")
            }
        }
    }
}
