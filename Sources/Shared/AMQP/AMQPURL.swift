import Foundation

/// Where a broker is and how to log in: `amqp://user:password@host:port/vhost`, or
/// `amqps://…?cacertfile=CA.pem[&certfile=CERT.pem&keyfile=KEY.pem]` over TLS (the query
/// parameters of RabbitMQ's URI spec).
///
/// The password never appears in ``description``.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Nil: plain TCP.
    public var tls: TLS?

    /// How an `amqps://` connection checks the broker, and proves who it is.
    public struct TLS: Sendable, Equatable {
        /// PEM file of the certificate authorities the broker's certificate must chain to; its
        /// host name (or IP address) must match the URL's host too.
        public var caCertificateFile: String
        /// PEM files of a client certificate and its key, for a broker that asks for one.
        public var certificateFile: String?
        public var keyFile: String?

        public init(caCertificateFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caCertificateFile = caCertificateFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }

        /// The system's certificate authorities (Debian's bundle).
        public static let systemCertificateAuthorities = "/etc/ssl/certs/ca-certificates.crt"
    }

    public init(host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest",
                virtualHost: String = "/", tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.tls = tls
    }

    /// Parses an `amqp://` or `amqps://` URL; the vhost is the percent-decoded path (`%2F` is
    /// `/`), `/` when absent.
    public init(parsing text: String) throws(AMQPError) {
        guard let components = URLComponents(string: text), ["amqp", "amqps"].contains(components.scheme),
              let host = components.host, !host.isEmpty
        else {
            throw AMQPError(.invalidURL, operation: "parse URL", message: "expected amqp://user:password@host:port/vhost")
        }
        self.host = host
        let query = components.queryItems ?? []
        if components.scheme == "amqps" {
            func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
            let tls = TLS(caCertificateFile: value("cacertfile") ?? TLS.systemCertificateAuthorities,
                          certificateFile: value("certfile"), keyFile: value("keyfile"))
            guard (tls.certificateFile == nil) == (tls.keyFile == nil) else {
                throw AMQPError(.invalidURL, operation: "parse URL", message: "give certfile and keyfile together")
            }
            self.tls = tls
        } else {
            guard query.isEmpty else {
                throw AMQPError(.invalidURL, operation: "parse URL", message: "TLS options need an amqps:// URL")
            }
            self.tls = nil
        }
        for item in query where !["cacertfile", "certfile", "keyfile"].contains(item.name) {
            throw AMQPError(.invalidURL, operation: "parse URL",
                            message: "unknown option \(item.name) (known: cacertfile, certfile, keyfile)")
        }
        self.port = components.port ?? (tls == nil ? 5672 : 5671)
        self.user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "guest"
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? "guest"
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            self.virtualHost = "/"
        } else {
            self.virtualHost = String(path.dropFirst()).removingPercentEncoding ?? String(path.dropFirst())
        }
    }

    /// The same broker, another virtual host.
    public func with(virtualHost: String) -> AMQPURL {
        var copy = self
        copy.virtualHost = virtualHost
        return copy
    }

    /// The URL with its password, for handing to a child process; never log it.
    public var urlWithPassword: String {
        let vhost = virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? virtualHost
        let user = user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? user
        let password = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "\(scheme)://\(user):\(password)@\(host):\(port)/\(vhost)\(tlsQuery)"
    }

    public var description: String {
        let vhost = virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? virtualHost
        return "\(scheme)://\(user)@\(host):\(port)/\(vhost)\(tlsQuery)"
    }

    private var scheme: String { tls == nil ? "amqp" : "amqps" }

    /// The TLS options as the URL's query (file paths, no secrets).
    private var tlsQuery: String {
        guard let tls else { return "" }
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "cacertfile", value: tls.caCertificateFile)]
            + (tls.certificateFile.map { [URLQueryItem(name: "certfile", value: $0)] } ?? [])
            + (tls.keyFile.map { [URLQueryItem(name: "keyfile", value: $0)] } ?? [])
        return "?" + (components.percentEncodedQuery ?? "")
    }
}
