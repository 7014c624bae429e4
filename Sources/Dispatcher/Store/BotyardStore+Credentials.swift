import Foundation
import GRDB
import Shared

/// A row of `credentials`: what a UI bot logs on to an account with.
struct CredentialRecord: Codable, FetchableRecord, PersistableRecord, CustomStringConvertible {
    static let databaseTableName = "credentials"

    var host: String
    var account: String
    var username: String
    var password: String
    var updatedAt: Date

    var description: String { "CredentialRecord(\(account) on \(host), username: \(username), password: ***)" }
}

extension BotyardStore {
    /// Stores an account's credential (replacing the old one); the robot queue's entries for the
    /// account are due.
    public func saveCredential(_ credential: AccountCredential, host: String, account: String,
                               at now: Date = Date()) throws {
        try write("save credential") { db in
            try CredentialRecord(host: host, account: account, username: credential.username,
                                 password: credential.password, updatedAt: now).save(db)
            try Self.markRobotQueueDue(group: nil, host: host, accounts: [account], in: db)
        }
    }

    /// Every stored credential, without its password.
    public func credentials() throws -> [CredentialSummary] {
        try read("list credentials") { db in
            try CredentialRecord.order(Column("host"), Column("account")).fetchAll(db).map {
                CredentialSummary(host: $0.host, account: $0.account, username: $0.username, updatedAt: $0.updatedAt)
            }
        }
    }

    /// Whether `account` on `host` has a credential stored.
    static func hasCredential(host: String, account: String, in db: Database) throws -> Bool {
        try CredentialRecord.exists(db, key: ["host": host, "account": account])
    }

    /// The credential a targeted UI bot gets: its account's on the host it was dispatched to.
    /// Background bots get none: they need no desktop session to log on to.
    static func credential(for job: JobRecord, in db: Database) throws -> AccountCredential? {
        guard job.botSnapshot.needsUI, let account = job.account, let host = job.dispatchHost else { return nil }
        return try CredentialRecord.fetchOne(db, key: ["host": host, "account": account])
            .map { AccountCredential(username: $0.username, password: $0.password) }
    }
}
