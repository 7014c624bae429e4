import CRabbitMQ

/// The sockets a connection opens: plain TCP, or TLS that verifies the broker's certificate
/// chain and host name.
extension ConnectionCore {
    static func tcpSocket(state: amqp_connection_state_t) throws(AMQPError) -> OpaquePointer {
        guard let socket = amqp_tcp_socket_new(state) else {
            throw AMQPError(.connectionFailed, operation: "connect", message: "amqp_tcp_socket_new failed")
        }
        return socket
    }

    static func makeTLSSocket(_ tls: AMQPURL.TLS, state: amqp_connection_state_t) throws(AMQPError) -> OpaquePointer {
        guard let socket = amqp_ssl_socket_new(state) else {
            throw AMQPError(.connectionFailed, operation: "connect over TLS", message: "amqp_ssl_socket_new failed")
        }
        amqp_ssl_socket_set_verify_peer(socket, 1)
        amqp_ssl_socket_set_verify_hostname(socket, 1)
        guard amqp_ssl_socket_set_cacert(socket, tls.caCertificateFile) == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, operation: "connect over TLS",
                            message: "cannot read the CA certificates in \(tls.caCertificateFile) (cacertfile)")
        }
        if let certificate = tls.certificateFile, let key = tls.keyFile,
           amqp_ssl_socket_set_key(socket, certificate, key) != AMQP_STATUS_OK.rawValue {
            throw AMQPError(.connectionFailed, operation: "connect over TLS",
                            message: "cannot use the client certificate \(certificate) with key \(key)")
        }
        return socket
    }

    /// Why opening the socket failed, in words that say what to check.
    static func openFailure(_ status: Int32, tls: AMQPURL.TLS?) -> String {
        let library = String(cString: amqp_error_string2(status))
        guard let tls else { return library }
        switch status {
        case AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue:
            return "TLS handshake failed (\(library)): is the broker's certificate signed by a CA in "
                + "\(tls.caCertificateFile), and does the broker accept this client?"
        case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue:
            return "the broker's certificate does not name the host of the URL (\(library))"
        default:
            return library
        }
    }
}
