import Foundation
import Testing

@testable import Shared

@Suite("A corked socket")
struct SocketCorkTests {
    /// Both ends of a TCP connection on the loopback interface.
    final class LoopbackPair {
        let sender: Int32
        let receiver: Int32

        init() throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(listener) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let sender = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try withUnsafeMutablePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    try #require(bind(listener, socketAddress, length) == 0)
                    try #require(listen(listener, 1) == 0)
                    try #require(getsockname(listener, socketAddress, &length) == 0)
                    try #require(connect(sender, socketAddress, length) == 0)
                }
            }
            self.sender = sender
            receiver = accept(listener, nil, nil)
            try #require(receiver >= 0)
        }

        deinit {
            close(sender)
            close(receiver)
        }

        func send(_ text: String) {
            _ = text.utf8CString.withUnsafeBytes { Glibc.send(sender, $0.baseAddress, text.utf8.count, 0) }
        }

        /// Whether anything arrives within `milliseconds`.
        func receives(within milliseconds: Int32) -> Bool {
            var descriptor = pollfd(fd: receiver, events: Int16(POLLIN), revents: 0)
            return poll(&descriptor, 1, milliseconds) == 1
        }
    }

    @Test("holds what is written until uncorked, a second cork holding nothing more; one uncork sends it all")
    func holdsUntilUncorked() throws {
        let pair = try LoopbackPair()
        var cork = SocketCork(descriptor: pair.sender)
        cork.cork()
        #expect(cork.isCorked)
        pair.send("basic.publish")
        cork.cork()
        pair.send("basic.publish")
        #expect(!pair.receives(within: 100))
        cork.uncork()
        #expect(!cork.isCorked)
        #expect(pair.receives(within: 100))
    }

    @Test("uncorking a socket that is not corked changes nothing; a bad descriptor is never corked")
    func uncorkedOrBad() throws {
        let pair = try LoopbackPair()
        var cork = SocketCork(descriptor: pair.sender)
        cork.uncork()
        pair.send("heartbeat")
        #expect(pair.receives(within: 100))

        var unopened = SocketCork(descriptor: -1)
        unopened.cork()
        #expect(!unopened.isCorked)
    }
}
