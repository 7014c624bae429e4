import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Answers workers' ``CredentialRequest``s from `botyard.credentials`: when the request is
/// entitled (``CredentialEntitlement``), the account's credential goes to the worker's control
/// queue sealed with the key of the worker's group, bound to that request.
///
/// Job messages never carry a credential, so no queue holds one in plain text, whether the job
/// waits, retries or is parked; and a UI bot gets its account's credential whether it was
/// launched to the account or to the group (the worker knows the account only when it runs it).
final class CredentialDesk: Service {
    private let store: BotyardStore
    private let reconnector: Reconnector
    private let secretsKey: SecretKey?
    private let logger: Logger

    init(store: BotyardStore, amqpURL: AMQPURL, secretsKey: SecretKey?, metrics: DispatcherMetrics, logger: Logger) {
        self.store = store
        self.reconnector = Reconnector(dispatcherConnection: "credentials", url: amqpURL, metrics: metrics,
                                       logger: logger)
        self.secretsKey = secretsKey
        self.logger = logger
    }

    func run() async throws {
        await reconnector.consume(Topology.credentialRequestsQueue, prefetch: 32, confirms: true) { delivery, channel in
            if let reply = await self.reply(to: delivery) { try await channel.publish(reply) }
            try await delivery.ack()
        }
    }

    /// The answer to one request, for the asking worker's control queue; nil for a message that is
    /// no request (it is dropped).
    private func reply(to delivery: AMQPDelivery) async -> AMQPMessage? {
        let request: CredentialRequest
        do {
            request = try JSONCodec.decode(CredentialRequest.self, from: delivery.body)
        } catch {
            logger.error("undecodable credential request dropped", metadata: ["error": "\(error)"])
            return nil
        }
        let reply = await answer(request)
        let control = ControlMessage(command: .credential, jobID: request.jobID, credentialReply: reply)
        // Not persistent, not mandatory: a worker that is gone asks nothing any more.
        return try? AMQPMessage(exchange: Topology.controlExchange,
                                routingKey: Topology.controlRoutingKey(workerID: request.workerID),
                                body: JSONCodec.encode(control), persistent: false, mandatory: false)
    }

    private func answer(_ request: CredentialRequest) async -> CredentialReply {
        let metadata: Logger.Metadata = [
            "job.id": "\(request.jobID)", "worker.id": "\(request.workerID)", "bot.account": "\(request.account)",
            "worker.host": "\(request.host)", "worker.group": "\(request.group)",
        ]
        let answer: CredentialAnswer
        do {
            answer = try await store.credentialAnswer(to: request)
        } catch let error as SecretKeyError {
            // Sealed with another key: asking again does not help.
            logger.error("stored credential cannot be opened", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return CredentialReply(requestID: request.requestID,
                                   refusal: "the stored credential cannot be opened with the dispatcher's secrets key "
                                       + "(was the key replaced?); store it again")
        } catch {
            // The store cannot be read (or a stored password not opened): the worker asks again.
            logger.error("credential request not answered", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return CredentialReply(requestID: request.requestID,
                                   refusal: "the dispatcher cannot read its store: \(error)", retryable: true)
        }
        switch answer {
        case .credential(let credential):
            // `answer` refuses every request when there is no key.
            let groupKey = secretsKey!.derived(for: .group(request.group))
            logger.info("credential sent", metadata: metadata)
            return CredentialReply(requestID: request.requestID,
                                   sealedCredential: groupKey.seal(credential, context: request.sealingContext))
        case .none:
            logger.info("no credential stored for the account", metadata: metadata)
            return CredentialReply(requestID: request.requestID)
        case .refused(let reason):
            logger.warning("credential request refused", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
            return CredentialReply(requestID: request.requestID, refusal: reason)
        case .hostNotYetKnown:
            let refusal = "no worker of group \(request.group) has reported from host \(request.host)"
            return CredentialReply(requestID: request.requestID, refusal: refusal, retryable: true)
        }
    }
}
