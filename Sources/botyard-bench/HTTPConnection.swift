import Foundation

/// One kept-alive HTTP/1.1 connection to the dispatcher on loopback, with blocking calls: the
/// leanest client there is, so that a benchmark of the dispatcher measures the dispatcher. Each
/// claimer owns one on a thread of its own (a blocking call must never hold a cooperative thread).
///
/// It speaks only what Botyard's server answers: a `Content-Length` body (or none, for 204).
final class HTTPConnection {
    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let descriptor: Int32
    /// Bytes read past the end of the last answer.
    private var pending: [UInt8] = []
    /// `Authorization: Bearer …\r\n`, or nothing.
    private let authorization: String

    /// - Parameter token: the API token every request carries.
    init(port: Int, token: String?) throws {
        authorization = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "connect to port \(port): \(reason)")
        }
        // A request goes out in one write; without this, Nagle holds it for the last ACK.
        var on: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(descriptor) }

    /// Sends one request and waits for its answer.
    func send(_ method: String, _ path: String, body: [UInt8] = []) throws -> Answer {
        var request = Array(("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "\(authorization)Content-Length: \(body.count)\r\n\r\n").utf8)
        request += body
        try write(request)
        return try readAnswer()
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, 0)
            }
            guard written > 0 else {
                if written < 0 && errno == EINTR { continue }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    private func readAnswer() throws -> Answer {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if let end = Self.find(separator, in: pending) {
                headEnd = end
                break
            }
            try receive()
        }
        let head = String(decoding: pending[..<headEnd!], as: UTF8.self)
        pending.removeFirst(headEnd! + separator.count)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
              let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw Failure(description: "not an HTTP/1.1 answer: \(head.prefix(80))") }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            switch parts[0].lowercased() {
            case "content-length":
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            case "transfer-encoding":
                throw Failure(description: "a chunked answer; this client reads Content-Length bodies only")
            case "connection" where parts[1].lowercased().contains("close"):
                throw Failure(description: "the server closes the connection; this client needs keep-alive")
            default:
                break
            }
        }
        while pending.count < length { try receive() }
        let body = Array(pending[..<length])
        pending.removeFirst(length)
        return Answer(status: status, body: body)
    }

    private func receive() throws {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                pending += buffer[..<count]
                return
            }
            if count < 0 && errno == EINTR { continue }
            throw Failure(description: count == 0 ? "the server closed the connection"
                : "recv: \(String(cString: strerror(errno)))")
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}

/// Runs blocking `body` on a thread of its own, never on one of the cooperative pool's.
func onThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
