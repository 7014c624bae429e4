#if canImport(Glibc)
import Glibc
#endif

/// Holds a connection's outgoing frames in the kernel while the connection's thread runs a pass
/// of several commands or publishes several messages, and lets them go together (`TCP_CORK`).
///
/// rabbitmq-c writes each frame as it goes, so a batch of publishes reached the broker a few
/// messages a segment: the broker's reader woke for each few, and spent about twice the CPU a
/// message that it spends on the same messages sent back to back. Corked, the kernel sends full
/// segments; uncorking sends the rest at once. The thread uncorks before it waits, and before a
/// call that waits for the broker's answer (a close), so nothing is held past the pass that wrote it.
struct SocketCork {
    let descriptor: Int32
    private(set) var isCorked = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Holds what is written from now on; does nothing when already corked.
    mutating func cork() {
        guard !isCorked else { return }
        isCorked = set(corked: true)
    }

    /// Sends what was held; does nothing when not corked.
    mutating func uncork() {
        guard isCorked else { return }
        _ = set(corked: false)
        isCorked = false
    }

    private func set(corked: Bool) -> Bool {
        var value: Int32 = corked ? 1 : 0
        return setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }
}
