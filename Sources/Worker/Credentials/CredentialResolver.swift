import Foundation
import Logging
import Shared

/// Gets the credential of the account a UI bot is about to run on: asks the dispatcher
/// (``CredentialRequest`` on `botyard.events`) and opens the answer, which comes back on the
/// worker's control queue sealed with the group's key, bound to the request.
///
/// A request without an answer (the dispatcher restarting, the answer lost) is asked again every
/// ``askTimeout`` until ``patience`` runs out; then the run fails to start, and the job's retry
/// policy decides.
final class CredentialResolver: Sendable {
    private let groupKey: SecretKey
    private let events: EventPublisher
    private let configuration: WorkerConfiguration
    private let answers = CredentialAnswers()
    let askTimeout: Duration
    let patience: Duration

    init(groupKey: SecretKey, events: EventPublisher, configuration: WorkerConfiguration,
         askTimeout: Duration = .seconds(5), patience: Duration = .seconds(60)) {
        self.groupKey = groupKey
        self.events = events
        self.configuration = configuration
        self.askTimeout = askTimeout
        self.patience = patience
    }

    /// The credential stored for `account` on this host; nil when none is.
    ///
    /// - Parameter gaveUp: checked between asks: the run was stopped meanwhile.
    func credential(jobID: Int64, account: String,
                    gaveUp: @Sendable () -> Bool) async throws(CredentialUnavailable) -> AccountCredential? {
        let clock = ContinuousClock()
        let deadline = clock.now + patience
        var lastProblem = "the dispatcher did not answer"
        while clock.now < deadline && !gaveUp() {
            let request = CredentialRequest(requestID: UUID.random().uuidString, jobID: jobID,
                                            group: configuration.group, host: configuration.host, account: account,
                                            workerID: configuration.workerID)
            answers.expect(request.requestID)
            do {
                try await events.publish(request)
            } catch {
                answers.forget(request.requestID)
                lastProblem = "the request could not be published: \(error)"
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            guard let reply = await answers.wait(for: request.requestID, timeout: askTimeout) else { continue }
            if let refusal = reply.refusal {
                guard reply.retryable else { throw CredentialUnavailable(account: account, reason: refusal) }
                lastProblem = refusal
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            guard let sealed = reply.sealedCredential else { return nil }
            do {
                return try groupKey.openCredential(sealed, context: request.sealingContext)
            } catch {
                throw CredentialUnavailable(account: account, reason: "\(error) (is the worker's key its group's?)")
            }
        }
        if gaveUp() { throw CredentialUnavailable(account: account, reason: "the run was stopped while asking") }
        throw CredentialUnavailable(account: account, reason: "\(lastProblem) (gave up after \(patience))")
    }

    /// Hands an answer from the control queue to the run waiting for it.
    func deliver(_ reply: CredentialReply) {
        answers.deliver(reply)
    }
}

/// The credential of a UI bot's account could not be had: its run fails to start.
struct CredentialUnavailable: Error, CustomStringConvertible {
    var account: String
    var reason: String

    var description: String { "no credential for account \(account): \(reason)" }
}
