import Testing

@testable import Shared

@Suite("AMQP URL")
struct AMQPURLTests {
    @Test("user, password, host, port and vhost are read from the URL")
    func parse() throws {
        let url = try AMQPURL(parsing: "amqp://bot%40yard:s3cr%2Ft@broker.local:5673/prod%2Fa")
        #expect(url.user == "bot@yard")
        #expect(url.password == "s3cr/t")
        #expect(url.host == "broker.local")
        #expect(url.port == 5673)
        #expect(url.virtualHost == "prod/a")
    }

    @Test("the default vhost is /, whether written as %2F or left out")
    func defaultVirtualHost() throws {
        #expect(try AMQPURL(parsing: "amqp://h").virtualHost == "/")
        #expect(try AMQPURL(parsing: "amqp://h:1/%2F").virtualHost == "/")
    }

    @Test("the password never appears in a description")
    func hidesPassword() throws {
        let url = try AMQPURL(parsing: "amqp://u:topsecret@h:1/v")
        #expect(!url.description.contains("topsecret"))
    }

    @Test("the URL with its password reads back as the same URL")
    func roundTrip() throws {
        let url = try AMQPURL(parsing: "amqp://bot%40yard:s3cr%2Ft@broker.local:5673/prod%2Fa")
        #expect(try AMQPURL(parsing: url.urlWithPassword) == url)
    }

    @Test("other schemes and missing hosts are refused", arguments: ["http://h", "amqp://", "nonsense"])
    func refused(text: String) {
        #expect(throws: AMQPError.self) { try AMQPURL(parsing: text) }
    }

    @Test("amqps:// reads its CA, client certificate and key from the query, and defaults to port 5671")
    func tls() throws {
        let url = try AMQPURL(parsing: "amqps://u:pw@broker:5999/v?cacertfile=/etc/ca.pem&certfile=/c.pem&keyfile=/k.pem")
        #expect(url.tls == AMQPURL.TLS(caCertificateFile: "/etc/ca.pem", certificateFile: "/c.pem", keyFile: "/k.pem"))
        #expect(url.port == 5999)
        #expect(try AMQPURL(parsing: "amqps://broker/v").port == 5671)
        #expect(try AMQPURL(parsing: "amqps://broker/v").tls?.caCertificateFile == AMQPURL.TLS.systemCertificateAuthorities)
        #expect(try AMQPURL(parsing: "amqp://broker/v").tls == nil)
        #expect(try AMQPURL(parsing: url.urlWithPassword) == url)
        #expect(url.description == "amqps://u@broker:5999/v?cacertfile=/etc/ca.pem&certfile=/c.pem&keyfile=/k.pem")
    }

    @Test("TLS options are refused on amqp://, alone, or unknown", arguments: [
        "amqp://h/v?cacertfile=/ca.pem", "amqps://h/v?certfile=/c.pem", "amqps://h/v?verify=verify_none",
    ])
    func refusedTLSOptions(text: String) {
        #expect(throws: AMQPError.self) { try AMQPURL(parsing: text) }
    }
}
