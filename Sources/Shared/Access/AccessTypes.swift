import Foundation

/// An API token as the API lists it: never its secret.
public struct APIToken: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var createdAt: Date
    /// When it was revoked; from then on it is refused.
    public var revokedAt: Date?

    public init(id: String, name: String, role: Role, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// `POST /v1/tokens`: a token to make.
public struct NewAPIToken: Codable, Sendable, Equatable {
    /// Who or what holds it ("ci", "alice"): shown in the audit log. Unique among live tokens.
    public var name: String
    public var role: Role

    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    public static let nameRule = "a token's name is 1 to 64 letters, digits, spaces or . _ @ -"

    public var problems: [String] {
        let allowed = name.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || " ._@-".unicodeScalars.contains($0)
        }
        return (1...64).contains(name.count) && allowed && name.trimmingCharacters(in: .whitespaces) == name
            ? [] : [Self.nameRule]
    }
}

/// The answer to `POST /v1/tokens`: the token and its secret, shown this once.
public struct CreatedAPIToken: Codable, Sendable, Equatable {
    public var token: APIToken
    /// `byt_…`: sent as `Authorization: Bearer <secret>`.
    public var secret: String

    public init(token: APIToken, secret: String) {
        self.token = token
        self.secret = secret
    }
}

/// `GET /v1/tokens`.
public struct APITokenList: Codable, Sendable, Equatable {
    public var tokens: [APIToken]

    public init(tokens: [APIToken]) { self.tokens = tokens }
}

/// `GET /v1/me`: who the dispatcher takes the caller for.
public struct CallerSummary: Codable, Sendable, Equatable {
    /// The token's name, or `job <id>` for a bot calling with its job's token.
    public var name: String
    public var role: Role
    public var kind: Kind

    public enum Kind: String, Codable, Sendable {
        /// An API token.
        case token
        /// A job's token, sent by its bot.
        case job
    }

    public init(name: String, role: Role, kind: Kind) {
        self.name = name
        self.role = role
        self.kind = kind
    }
}

/// A changing request as the audit log keeps it: who, what, when, and how it ended.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64
    public var at: Date
    /// `token <name>`, `job <id>`, or `anonymous` for a request without a valid token.
    public var caller: String
    public var role: Role?
    public var method: String
    /// The request's path, without its query.
    public var path: String
    public var status: Int

    public init(id: Int64, at: Date, caller: String, role: Role?, method: String, path: String, status: Int) {
        self.id = id
        self.at = at
        self.caller = caller
        self.role = role
        self.method = method
        self.path = path
        self.status = status
    }
}

/// `GET /v1/audit`: newest first.
public struct AuditPage: Codable, Sendable, Equatable {
    public var entries: [AuditEntry]

    public init(entries: [AuditEntry]) { self.entries = entries }
}
