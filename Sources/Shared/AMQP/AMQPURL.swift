import Foundation

/// Where a broker is and how to log in: `amqp://user:password@host:port/vhost`.
///
/// The password never appears in ``description``.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String

    public init(host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest",
                virtualHost: String = "/") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
    }

    /// Parses an `amqp://` URL; the vhost is the percent-decoded path (`%2F` is `/`), `/` when absent.
    public init(parsing text: String) throws(AMQPError) {
        guard let components = URLComponents(string: text), components.scheme == "amqp",
              let host = components.host, !host.isEmpty
        else {
            throw AMQPError(.invalidURL, operation: "parse URL", message: "expected amqp://user:password@host:port/vhost")
        }
        self.host = host
        self.port = components.port ?? 5672
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
        return "amqp://\(user):\(password)@\(host):\(port)/\(vhost)"
    }

    public var description: String {
        let vhost = virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? virtualHost
        return "amqp://\(user)@\(host):\(port)/\(vhost)"
    }
}
