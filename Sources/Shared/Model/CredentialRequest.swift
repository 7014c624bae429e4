import Foundation

/// A worker asks the dispatcher for the credential of the account it is about to run a UI bot on.
///
/// Published to `botyard.events` with routing key ``routingKey``; the answer, a
/// ``CredentialReply`` sealed with the group's key, comes back on the worker's control queue.
/// Job messages never carry credentials, so that no queue (retry and parked ones included)
/// ever holds one.
public struct CredentialRequest: Codable, Sendable, Equatable {
    public static let routingKey = "credential.request"

    /// Matches the reply to the request.
    public var requestID: String
    public var jobID: Int64
    /// The worker's group: its key seals the answer.
    public var group: String
    public var host: String
    public var account: String
    /// Whose control queue the answer goes to.
    public var workerID: String

    public init(requestID: String, jobID: Int64, group: String, host: String, account: String, workerID: String) {
        self.requestID = requestID
        self.jobID = jobID
        self.group = group
        self.host = host
        self.account = account
        self.workerID = workerID
    }

    /// What the answer's credential is bound to: it opens for this request only.
    public var sealingContext: String { "credential reply \(requestID) job \(jobID) \(host)/\(account)" }
}

/// The dispatcher's answer to a ``CredentialRequest``.
public struct CredentialReply: Codable, Sendable, Equatable {
    public var requestID: String
    /// The credential sealed with the group's key for the request's ``CredentialRequest/sealingContext``;
    /// nil when none is stored or the request was refused.
    public var sealedCredential: String?
    /// Why the request was refused (nil when it was not).
    public var refusal: String?
    /// The refusal may pass: the dispatcher has not heard of the worker's host yet.
    public var retryable: Bool

    public init(requestID: String, sealedCredential: String? = nil, refusal: String? = nil, retryable: Bool = false) {
        self.requestID = requestID
        self.sealedCredential = sealedCredential
        self.refusal = refusal
        self.retryable = retryable
    }
}

extension SecretKey {
    /// `credential` sealed for `context`.
    public func seal(_ credential: AccountCredential, context: String) -> String {
        // Encoding two strings cannot fail.
        seal(try! JSONCodec.encode(credential), context: context)
    }

    /// The credential ``seal(_:context:)-(AccountCredential,_)`` sealed.
    public func openCredential(_ sealed: String, context: String) throws(SecretKeyError) -> AccountCredential {
        let data = try open(sealed, context: context)
        do { return try JSONCodec.decode(AccountCredential.self, from: data) } catch {
            throw .cannotOpen(context: context)
        }
    }
}
