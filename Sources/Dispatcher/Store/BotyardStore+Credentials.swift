import Foundation
import GRDB
import Shared

/// A row of `credentials`: what a UI bot logs on to an account with. The password is sealed with
/// the dispatcher's key for credentials at rest, for this host and account only.
struct CredentialRecord: Codable, FetchableRecord, PersistableRecord, CustomStringConvertible {
    static let databaseTableName = "credentials"

    var host: String
    var account: String
    var username: String
    var sealedPassword: String
    var updatedAt: Date

    var description: String { "CredentialRecord(\(account) on \(host), username: \(username), password: sealed)" }

    /// What a stored password is bound to: it opens as this account's on this host only.
    static func sealingContext(host: String, account: String) -> String { "stored credential \(host)/\(account)" }
}

/// Credentials cannot be stored or read: the dispatcher was started without its secrets key.
public struct SecretsKeyMissing: Error, CustomStringConvertible, Sendable {
    public var description: String {
        "the dispatcher has no secrets key (--secrets-key-file or BOTYARD_SECRETS_KEY): "
            + "credentials cannot be stored or sent"
    }
}

extension BotyardStore {
    /// Stores an account's credential (replacing the old one), its password sealed; the robot
    /// queue's entries for the account are due.
    public func saveCredential(_ credential: AccountCredential, host: String, account: String,
                               at now: Date = Date()) async throws {
        guard let credentialsKey else { throw SecretsKeyMissing() }
        let sealed = credentialsKey.seal(Data(credential.password.utf8),
                                         context: CredentialRecord.sealingContext(host: host, account: account))
        try await write("save credential") { db in
            try CredentialRecord(host: host, account: account, username: credential.username,
                                 sealedPassword: sealed, updatedAt: now).save(db)
            try Self.markRobotQueueDue(group: nil, host: host, accounts: [account], in: db)
        }
    }

    /// Every stored credential, without its password.
    public func credentials() async throws -> [CredentialSummary] {
        try await read("list credentials") { db in
            try CredentialRecord.order(Column("host"), Column("account")).fetchAll(db).map {
                CredentialSummary(host: $0.host, account: $0.account, username: $0.username, updatedAt: $0.updatedAt)
            }
        }
    }

    /// Whether `account` on `host` has a credential stored.
    static func hasCredential(host: String, account: String, in db: Database) throws -> Bool {
        try CredentialRecord.exists(db, key: ["host": host, "account": account])
    }

    /// The answer to a worker's request for the credential of the account it is about to run a
    /// job's UI bot on (``CredentialEntitlement``), with the credential opened when granted.
    func credentialAnswer(to request: CredentialRequest) async throws -> CredentialAnswer {
        guard let credentialsKey else { return .refused(SecretsKeyMissing().description) }
        let (verdict, record) = try await read("answer a credential request") { db in
            let job = try JobRecord.fetchOne(db, key: request.jobID)
            let hostInGroup = try WorkerRecord
                .filter(Column("group") == request.group && Column("host") == request.host).isEmpty(db) == false
            let verdict = CredentialEntitlement(request: request, job: job.map(CredentialEntitlement.Job.init),
                                                hostInGroup: hostInGroup).verdict
            let record = verdict == .entitled
                ? try CredentialRecord.fetchOne(db, key: ["host": request.host, "account": request.account]) : nil
            return (verdict, record)
        }
        switch verdict {
        case .entitled:
            guard let record else { return .none }
            let context = CredentialRecord.sealingContext(host: record.host, account: record.account)
            let password = try credentialsKey.open(record.sealedPassword, context: context)
            return .credential(AccountCredential(username: record.username, password: String(decoding: password,
                                                                                              as: UTF8.self)))
        case .refused(let reason): return .refused(reason)
        case .hostNotYetKnown: return .hostNotYetKnown
        }
    }
}

/// What the dispatcher answers a ``CredentialRequest``.
enum CredentialAnswer: Equatable {
    case credential(AccountCredential)
    /// The request is entitled, but no credential is stored for the account.
    case none
    case refused(String)
    /// No worker of the group has reported from the host yet; ask again.
    case hostNotYetKnown
}
