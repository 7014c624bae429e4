import Foundation
import Shared
import TestSupport
import Testing

@Suite("TLS to the broker")
struct TLSTests {
    /// The test broker's TLS listener, on a virtual host of its own.
    static func withTLSVirtualHost(_ body: (AMQPURL) async throws -> Void) async throws {
        let tls = try TestBroker.tlsURL()
        try await TestBroker.withVirtualHost { plain in
            try await body(tls.with(virtualHost: plain.virtualHost))
        }
    }

    @Test("a job runs with the dispatcher and the worker on amqps://, the broker's certificate checked against its CA")
    func jobOverTLS() async throws {
        try await Self.withTLSVirtualHost { url in
            try await Fleet.run(url: url) { fleet in
                try await fleet.register(CreateBotRequest(name: "hello", argv: ["/bin/echo", "over TLS"], timeoutSeconds: 30))
                let job = try await fleet.waitForJob(try await fleet.submit(SubmitJobRequest(bot: "hello", group: "g1")))
                #expect(job.state == .succeeded)
                struct Connection: Decodable {
                    var vhost: String
                    var ssl: Bool
                }
                // The management API lists a connection once its statistics came in (every 5 s).
                var connections: [Connection] = []
                try await waitUntil(timeout: .seconds(15)) {
                    connections = try JSONDecoder().decode([Connection].self,
                                                           from: try await TestBroker.management(.get, "api/connections"))
                        .filter { $0.vhost == url.virtualHost }
                    return connections.count >= 5
                }
                #expect(connections.allSatisfy { $0.ssl }, "the dispatcher's and the worker's connections")
            }
        }
    }

    @Test("a CA that did not sign the broker's certificate is refused, and the error says what to check")
    func wrongCA() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let otherCA = folder.appendingPathComponent("other-ca.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Another CA",
                             "-keyout", folder.appendingPathComponent("other-ca.key").path, "-out", otherCA]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)

        var url = try TestBroker.tlsURL()
        url.tls?.caCertificateFile = otherCA
        await #expect {
            try await withConnection(to: url) { _ in }
        } throws: { error in
            "\(error)".contains("TLS handshake failed") && "\(error)".contains("signed by a CA in \(otherCA)")
        }
    }

    @Test("a CA file that cannot be read is refused before anything is sent")
    func missingCA() async throws {
        var url = try TestBroker.tlsURL()
        url.tls?.caCertificateFile = "/nonexistent/ca.pem"
        await #expect {
            try await withConnection(to: url) { _ in }
        } throws: { error in
            "\(error)".contains("cannot read the CA certificates in /nonexistent/ca.pem (cacertfile)")
        }
    }
}
