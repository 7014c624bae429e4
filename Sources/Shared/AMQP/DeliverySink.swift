/// Where the connection's thread hands a consumer's deliveries.
enum DeliverySink: Sendable {
    /// One at a time, to whoever iterates an ``AMQPConsumer``.
    case stream(AsyncThrowingStream<AMQPDelivery, any Error>.Continuation)
    /// In batches, to the task that empties an ``AMQPBatchConsumer``.
    case batches(DeliveryBatches)

    func yield(_ delivery: AMQPDelivery) {
        switch self {
        case .stream(let continuation): continuation.yield(delivery)
        case .batches(let batches): batches.append(delivery)
        }
    }

    /// Ends the deliveries: with `error`, or as a cancel of our own when it is nil.
    func finish(throwing error: (any Error)? = nil) {
        switch self {
        case .stream(let continuation): continuation.finish(throwing: error)
        case .batches(let batches): batches.finish(throwing: error)
        }
    }
}
