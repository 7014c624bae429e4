import Foundation

/// A message to publish.
public struct AMQPMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    /// Ties a `basic.return` to its publish; set it on mandatory publishes.
    public var messageID: String?
    public var contentType: String?
    public var headers: AMQPTable
    /// Written to disk by the broker (delivery mode 2).
    public var persistent: Bool
    /// Come back as an error when no queue matches, instead of vanishing.
    public var mandatory: Bool

    public init(
        exchange: String,
        routingKey: String,
        body: Data,
        messageID: String? = nil,
        contentType: String? = "application/json",
        headers: AMQPTable = [:],
        persistent: Bool = true,
        mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageID = messageID
        self.contentType = contentType
        self.headers = headers
        self.persistent = persistent
        self.mandatory = mandatory
    }
}
