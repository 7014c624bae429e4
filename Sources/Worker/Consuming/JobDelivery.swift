import Shared

/// A job delivered to one of the worker's accounts: the message, the queue it came from and the
/// job it carries.
struct JobDelivery: Sendable {
    let message: AMQPDelivery
    let queue: ConsumedQueue
    let envelope: JobEnvelope
    let account: String

    /// The attempt the bot is told: a redelivery means a worker took this message and vanished, so
    /// the bot hears it as the next attempt.
    var attempt: Int { envelope.attempt + message.deliveryCount }
}
