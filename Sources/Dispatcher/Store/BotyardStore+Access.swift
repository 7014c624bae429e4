import Foundation
import GRDB
import Shared

/// A live token's name is taken.
public struct TokenNameTaken: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var description: String { "a live token is named '\(name)': revoke it first, or choose another name" }
}

/// What checking an API token needs: the token and the hash of its key.
struct StoredAPIToken: Sendable {
    var token: APIToken
    var keyHash: String
}

extension BotyardStore {
    /// Makes a token; its secret is in the answer only.
    /// - Throws: ``TokenNameTaken`` when a live token has the name.
    public func createAPIToken(_ request: NewAPIToken, at now: Date = Date()) async throws -> CreatedAPIToken {
        let secret = APITokenSecret.generate()
        let token = APIToken(id: secret.id, name: request.name, role: request.role, createdAt: now)
        let created = try await write("create API token") { db -> Bool in
            let taken = try Bool.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ? AND revokedAt IS NULL",
                                          arguments: [request.name]) ?? false
            guard !taken else { return false }
            try db.execute(sql: """
                INSERT INTO api_tokens (id, name, role, keyHash, createdAt) VALUES (?, ?, ?, ?, ?)
                """, arguments: [token.id, token.name, token.role.rawValue, secret.keyHash, now.storedValue])
            return true
        }
        guard created else { throw TokenNameTaken(name: request.name) }
        return CreatedAPIToken(token: token, secret: secret.text)
    }

    /// Every token, live and revoked, oldest first.
    public func apiTokens() async throws -> [APIToken] {
        try await read("list API tokens") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY createdAt, id").map(Self.apiToken)
        }
    }

    /// Revokes a token; false when there is none with that id. Revoking a revoked token changes nothing.
    public func revokeAPIToken(id: String, at now: Date = Date()) async throws -> Bool {
        try await write("revoke API token") { db in
            try db.execute(sql: "UPDATE api_tokens SET revokedAt = coalesce(revokedAt, ?) WHERE id = ?",
                           arguments: [now.storedValue, id])
            return db.changesCount > 0
        }
    }

    /// The token with `id` and its key's hash, revoked or not; nil when there is none.
    func storedAPIToken(id: String) async throws -> StoredAPIToken? {
        try await read("find API token") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE id = ?", arguments: [id]).map {
                StoredAPIToken(token: try Self.apiToken($0), keyHash: $0["keyHash"])
            }
        }
    }

    /// The job whose token `token` is, and its state; nil when it is no job's.
    func job(forToken token: String) async throws -> (id: Int64, state: JobState)? {
        try await read("find job by token") { db in
            guard let row = try Row.fetchOne(db, sql: Self.jobByTokenSQL, arguments: [token]),
                  let state = JobState(rawValue: row["state"]) else { return nil }
            return (row["id"], state)
        }
    }

    /// Through the unique index `jobs_api_token`: every call a bot makes with its token runs it.
    static let jobByTokenSQL = "SELECT id, state FROM jobs WHERE apiToken = ?"

    private static func apiToken(_ row: Row) throws -> APIToken {
        guard let role = Role(rawValue: row["role"]) else {
            throw StoreError(operation: "read API token", message: "unknown role \(row["role"] as String)")
        }
        return APIToken(id: row["id"], name: row["name"], role: role, createdAt: row["createdAt"],
                        revokedAt: row["revokedAt"])
    }
}

extension BotyardStore {
    /// Records a changing request in the audit log, in the next transaction the store commits
    /// (or one of its own a few milliseconds later): the request's answer does not wait for it.
    /// `completion` gets nil once the entry is committed, else why it is not.
    func recordAudit(caller: String, role: Role?, method: String, path: String, status: Int, at now: Date = Date(),
                     completion: @escaping @Sendable (StoreError?) -> Void = { _ in }) {
        let at = now.storedValue
        writeDeferred("record audit entry", { db in
            try db.cachedStatement(sql: """
                INSERT INTO audit_log (at, caller, role, method, path, status) VALUES (?, ?, ?, ?, ?, ?)
                """).execute(binding: at, caller, role?.rawValue, method, path, status)
        }, completion: completion)
    }

    /// Audit entries, newest first: at most `limit`, older than the entry `before` when given.
    public func auditEntries(limit: Int, before: Int64? = nil) async throws -> [AuditEntry] {
        try await read("read audit log") { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?
                """, arguments: [before ?? Int64.max, limit]).map { row in
                AuditEntry(id: row["id"], at: row["at"], caller: row["caller"],
                           role: (row["role"] as String?).flatMap(Role.init(rawValue:)), method: row["method"],
                           path: row["path"], status: row["status"])
            }
        }
    }
}
