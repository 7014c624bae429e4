import ServiceLifecycle
import Shared

extension Reconnector {
    /// Consumes `queue` until graceful shutdown, on a channel of its own and a new connection
    /// whenever one breaks: declares the core topology first (the dispatcher's queues are in it),
    /// and hands each delivery, with its channel (in confirm mode if `confirms`), to `handle`.
    func consume(_ queue: String, prefetch: UInt16, confirms: Bool = false,
                 _ handle: @escaping @Sendable (AMQPDelivery, AMQPChannel) async throws -> Void) async {
        await cancelWhenGracefulShutdown {
            await run { connection in
                let channel = try await connection.openChannel()
                try await TopologyDeclarer.declareCore(on: channel)
                if confirms { try await channel.enableConfirms() }
                try await channel.setPrefetch(count: prefetch)
                for try await delivery in try await channel.consume(queue: queue) {
                    try await handle(delivery, channel)
                }
            }
        }
    }
}
