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
                    var vhost: String?
                    /// Missing while the connection's details are still coming in (the broker's other tests
                    /// open and close connections all the while).
                    var ssl: Bool?
                }
                // The management API lists a connection once its statistics came in (every 5 s).
                var connections: [Connection] = []
                try await waitUntil(timeout: .seconds(15)) {
                    connections = try JSONDecoder().decode([Connection].self,
                                                           from: try await TestBroker.management(.get, "api/connections"))
                        .filter { $0.vhost == url.virtualHost }
                    return connections.count >= 5 && connections.allSatisfy { $0.ssl != nil }
                }
                #expect(connections.allSatisfy { $0.ssl == true }, "the dispatcher's and the worker's connections")
            }
        }
    }

    /// Runs `openssl` with `arguments`; the test fails unless it succeeds.
    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " "))")
    }

    @Test("a client certificate signed by the broker's CA is shown to the broker")
    func clientCertificate() async throws {
        let brokerCA = try #require(ProcessInfo.processInfo.environment["BOTYARD_TEST_BROKER_DIR"])
            .appending("/tls")
        try await withScratchFolder("botyard-tls") { folder in
            let key = folder.appendingPathComponent("client.key").path
            let request = folder.appendingPathComponent("client.csr").path
            let certificate = folder.appendingPathComponent("client.pem").path
            try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=botyard-test-client",
                              "-keyout", key, "-out", request])
            try Self.openssl(["x509", "-req", "-in", request, "-CA", brokerCA + "/ca.pem", "-CAkey", brokerCA + "/ca.key",
                              "-CAcreateserial", "-CAserial", folder.appendingPathComponent("ca.srl").path,
                              "-days", "1", "-out", certificate])
            var url = try TestBroker.tlsURL()
            url.tls?.certificateFile = certificate
            url.tls?.keyFile = key
            try await withConnection(to: url, name: "client-certificate") { _ in
                struct Connection: Decodable {
                    var name: String
                    var peerCertSubject: String?
                    var clientProperties: [String: AMQPClientProperty]?

                    enum CodingKeys: String, CodingKey {
                        case name, peerCertSubject = "peer_cert_subject", clientProperties = "client_properties"
                    }
                }
                var subject: String?
                try await waitUntil(timeout: .seconds(15)) {
                    let connections = try JSONDecoder().decode([Connection].self,
                                                               from: try await TestBroker.management(.get, "api/connections"))
                    subject = connections.first { $0.clientProperties?["connection_name"]?.text == "client-certificate" }?
                        .peerCertSubject
                    return subject != nil
                }
                #expect(subject == "CN=botyard-test-client")
            }
        }
    }

    @Test("a CA that did not sign the broker's certificate is refused, and the error says what to check")
    func wrongCA() async throws {
        try await withScratchFolder("botyard-tls") { folder in
            let otherCA = folder.appendingPathComponent("other-ca.pem").path
            try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Another CA",
                              "-keyout", folder.appendingPathComponent("other-ca.key").path, "-out", otherCA])
            try await Self.expectRefused(withCA: otherCA)
        }
    }

    static func expectRefused(withCA otherCA: String) async throws {
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

/// A value of a connection's client properties as the management API shows it.
struct AMQPClientProperty: Decodable {
    var text: String?

    init(from decoder: any Decoder) throws {
        text = try? decoder.singleValueContainer().decode(String.self)
    }
}
