import Hummingbird
import Shared
import Synchronization

/// Finds who a request's bearer token belongs to: an API token (`byt_…`, checked against the
/// stored hash of its key), else a job that has not ended.
///
/// API tokens are kept for a few seconds after they are read, so that a burst of requests reads
/// the store once; revoking a token through the API forgets it at once.
final class TokenAuthenticator: Sendable {
    private let store: BotyardStore
    private let cached = Mutex<[String: CachedToken]>([:])
    /// How long a token read from the store is trusted without reading it again.
    private let freshFor: Duration

    private struct CachedToken {
        var stored: StoredAPIToken
        var readAt: ContinuousClock.Instant
    }

    init(store: BotyardStore, freshFor: Duration = .seconds(5)) {
        self.store = store
        self.freshFor = freshFor
    }

    /// The caller `request` authenticates as.
    /// - Throws: `401 unauthenticated` without a token, `401 invalid_token` for a token that is
    ///   unknown, revoked, or a job's that has ended.
    func caller(of request: Request) async throws -> Caller {
        guard let header = request.headers[.authorization] else { throw APIError.unauthenticated }
        // The scheme's name is case-insensitive (RFC 9110 §11.1).
        guard header.prefix(7).lowercased() == "bearer " else {
            throw APIError.invalidToken("the Authorization header must be 'Bearer <token>'")
        }
        let bearer = header.dropFirst("Bearer ".count)
        if let secret = APITokenSecret(parsing: bearer) {
            guard let stored = try await storedToken(id: secret.id), stored.token.revokedAt == nil,
                  secret.matches(keyHash: stored.keyHash) else {
                throw APIError.invalidToken("the token is unknown or revoked")
            }
            return Caller(identity: .token(stored.token))
        }
        guard let job = try await store.job(forToken: String(bearer)) else {
            throw APIError.invalidToken("the bearer token is neither an API token nor a job's")
        }
        // A job's token opens the API to its bot while the job lives, not after.
        guard !job.state.isTerminal else {
            throw APIError.invalidToken("job \(job.id) has ended (\(job.state.rawValue)): its token is no longer valid")
        }
        return Caller(identity: .job(job.id))
    }

    /// Drops a token read earlier: the next request reads it again (after a revocation).
    func forget(tokenID: String) {
        _ = cached.withLock { $0.removeValue(forKey: tokenID) }
    }

    private func storedToken(id: String) async throws -> StoredAPIToken? {
        let now = ContinuousClock.now
        if let entry = cached.withLock({ $0[id] }), now - entry.readAt < freshFor { return entry.stored }
        guard let stored = try await store.storedAPIToken(id: id) else { return nil }
        cached.withLock { $0[id] = CachedToken(stored: stored, readAt: now) }
        return stored
    }
}
