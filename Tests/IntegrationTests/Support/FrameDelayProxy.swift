import Foundation
import Shared
import Synchronization

/// A TCP proxy between one AMQP client and the broker that holds back the broker's frames on
/// chosen channels: a broker slow to answer one channel, on demand, with everything else flowing.
///
/// Client → broker bytes pass untouched. Broker → client bytes are cut into AMQP frames (type,
/// channel, size, payload, end octet); a frame on a delayed channel is written after the delay,
/// in order with the channel's other delayed frames, the rest at once. Threads and blocking
/// sockets: this is test plumbing, stopped by ``stop()``.
final class FrameDelayProxy: Sendable {
    /// The URL to give the client: the broker's, with the proxy's port.
    let url: AMQPURL
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var delays: [UInt16: Duration] = [:]
        /// The relayed connections' sockets, until they are closed.
        var sockets: [Int32] = []
        /// Those of them that face the clients.
        var clients: [Int32] = []
    }

    init(to broker: AMQPURL) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 4) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw ProxyError(description: "proxy: bind failed: \(reason)")
        }
        var url = broker
        url.port = Int(UInt16(bigEndian: address.sin_port))
        self.url = url
        Thread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                do {
                    try self.relay(client, to: broker)
                } catch {
                    close(client)
                }
            }
        }.start()
    }

    /// Holds the broker's frames on `channel` back by `delay` from now on (`nil`: no more).
    func delay(channel: UInt16, by delay: Duration?) {
        state.withLock { $0.delays[channel] = delay }
    }

    /// The TCP segments with data that the relayed clients' sockets have received so far, all
    /// together: how the clients' frames were cut on the way (`tcpi_data_segs_in` of Linux's
    /// `tcp_info`, which glibc's header lacks: read at its offset, 152, in the kernel's layout).
    func dataSegmentsFromClients() -> Int {
        state.withLock { state in
            state.clients.reduce(0) { total, client in
                var info = [UInt8](repeating: 0, count: 232)
                var length = socklen_t(info.count)
                guard getsockopt(client, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0, length >= 156 else {
                    return total
                }
                return total + info[152..<156].reversed().reduce(0) { $0 << 8 | Int($1) }
            }
        }
    }

    /// Closes the listener and every relayed connection; the threads end with them.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        // Under the lock: a socket still listed is not closed yet (its number not reused).
        state.withLock { state in
            for socket in state.sockets { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    private func relay(_ client: Int32, to broker: AMQPURL) throws {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(broker.host == "localhost" ? "127.0.0.1" : broker.host)
        address.sin_port = UInt16(broker.port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(server)
            throw ProxyError(description: "proxy: connect to the broker failed")
        }
        state.withLock { state in
            state.sockets += [client, server]
            state.clients.append(client)
        }
        // Three threads use the two sockets; the last one to end closes them.
        let running = Atomic<Int>(3)
        let threadEnded: @Sendable () -> Void = { [self] in
            guard running.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
            state.withLock { state in
                state.sockets.removeAll { $0 == client || $0 == server }
                state.clients.removeAll { $0 == client }
                close(client)
                close(server)
            }
        }
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while case let count = read(client, &buffer, buffer.count), count > 0 {
                guard Self.write(buffer[0..<count], to: server) else { break }
            }
            shutdown(server, Int32(SHUT_RDWR))
            threadEnded()
        }.start()
        let writer = DueWriter(socket: client)
        Thread {
            writer.run()
            threadEnded()
        }.start()
        Thread { [self] in
            var reader = FrameReader(socket: server)
            while let frame = reader.next() {
                let delay = state.withLock { $0.delays[frame.channel] } ?? .zero
                writer.write(frame.bytes, due: .now + delay)
            }
            writer.finish()
            threadEnded()
        }.start()
    }

    static func write(_ bytes: ArraySlice<UInt8>, to socket: Int32) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            // MSG_NOSIGNAL: a peer that is gone is an error here, not a SIGPIPE that ends the test process.
            let count = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    struct ProxyError: Error, CustomStringConvertible {
        var description: String
    }
}

/// Cuts a byte stream from the broker into AMQP frames.
private struct FrameReader {
    let socket: Int32
    private var buffer: [UInt8] = []

    init(socket: Int32) {
        self.socket = socket
    }

    struct Frame {
        var channel: UInt16
        var bytes: [UInt8]
    }

    /// The next whole frame; nil when the socket closed.
    mutating func next() -> Frame? {
        while true {
            if buffer.count >= 7 {
                let size = buffer[3..<7].reduce(0) { $0 << 8 | Int($1) }
                if buffer.count >= 7 + size + 1 {
                    let bytes = Array(buffer[0..<(8 + size)])
                    buffer.removeFirst(8 + size)
                    return Frame(channel: UInt16(bytes[1]) << 8 | UInt16(bytes[2]), bytes: bytes)
                }
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = read(socket, &chunk, chunk.count)
            guard count > 0 else { return nil }
            buffer += chunk[0..<count]
        }
    }
}

/// Writes frames to the client once they are due: by due time, and in the order given among
/// frames due at the same time (a delayed channel's frames keep their order).
private final class DueWriter: @unchecked Sendable {
    private let socket: Int32
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var frames: [(due: ContinuousClock.Instant, bytes: [UInt8])] = []
    private var finished = false

    init(socket: Int32) {
        self.socket = socket
    }

    func write(_ bytes: [UInt8], due: ContinuousClock.Instant) {
        condition.lock()
        let index = frames.firstIndex { $0.due > due } ?? frames.endIndex
        frames.insert((due, bytes), at: index)
        condition.signal()
        condition.unlock()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    func run() {
        while true {
            condition.lock()
            while frames.isEmpty && !finished { condition.wait() }
            guard let first = frames.first else {
                condition.unlock()
                break
            }
            if first.due > .now {
                // Once the broker's side has ended, frames still held back are for a connection that is over.
                if finished {
                    condition.unlock()
                    break
                }
                _ = condition.wait(until: Date() + (ContinuousClock.now.duration(to: first.due)).timeInterval)
                condition.unlock()
                continue
            }
            frames.removeFirst()
            condition.unlock()
            guard FrameDelayProxy.write(first.bytes[...], to: socket) else { break }
        }
        shutdown(socket, Int32(SHUT_RDWR))
    }
}

private extension Duration {
    var timeInterval: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) * 1e-18
    }
}
