/// Any failure of the AMQP layer: the library's own, the broker's answer, or a closed connection.
public struct AMQPError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        public static let invalidURL = Code(name: "invalidURL")
        /// TCP connect or login failed.
        public static let connectionFailed = Code(name: "connectionFailed")
        /// The connection is gone (closed by us, by the broker, or the socket broke).
        public static let connectionClosed = Code(name: "connectionClosed")
        /// The broker closed the channel (`channel.close` with a reply code).
        public static let channelClosed = Code(name: "channelClosed")
        /// The broker answered an RPC with an error.
        public static let brokerError = Code(name: "brokerError")
        /// rabbitmq-c reported an error of its own.
        public static let libraryError = Code(name: "libraryError")
        /// A publish was negatively confirmed (`basic.nack`).
        public static let publishNacked = Code(name: "publishNacked")
        /// A mandatory publish matched no queue (`basic.return`).
        public static let publishReturned = Code(name: "publishReturned")
        /// The broker cancelled a consumer (its queue was deleted, or a node went away).
        public static let consumerCancelled = Code(name: "consumerCancelled")
    }

    public var code: Code
    /// What was being done, e.g. `queue.declare botyard.dead`.
    public var operation: String
    /// The broker's reply code (404, 406, 320…) when the broker answered.
    public var replyCode: UInt16?
    public var message: String

    public init(_ code: Code, operation: String, replyCode: UInt16? = nil, message: String) {
        self.code = code
        self.operation = operation
        self.replyCode = replyCode
        self.message = message
    }

    public var description: String {
        let reply = replyCode.map { " (reply \($0))" } ?? ""
        return "AMQP \(code) during \(operation)\(reply): \(message)"
    }
}
