/// Where the connection's thread hands a consumer's deliveries.
enum DeliverySink: Sendable {
    /// One at a time, to whoever iterates an ``AMQPConsumer``.
    case stream(AsyncThrowingStream<AMQPDelivery, any Error>.Continuation)
    /// A burst at a time, to a function on the connection's thread (``AMQPCallbackConsumer``).
    case handOver(DeliveryHandOver)

    /// Ends the deliveries: with `error`, or as a cancel of our own when it is nil.
    func finish(throwing error: (any Error)? = nil) {
        switch self {
        case .stream(let continuation): continuation.finish(throwing: error)
        case .handOver(let handOver): handOver.finish(throwing: error)
        }
    }
}
