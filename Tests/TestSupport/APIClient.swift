import Foundation
import Hummingbird
import HummingbirdTesting
import Shared

/// Sends requests through Hummingbird's test client and reads JSON answers.
public struct APIClient: Sendable {
    public let client: any TestClientProtocol
    /// Sent as `Authorization: Bearer …` with every request; nil sends none.
    public let token: String?

    public init(client: any TestClientProtocol, token: String?) {
        self.client = client
        self.token = token
    }

    public func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil) async throws -> TestResponse {
        try await send(method, uri, body, token: token)
    }

    /// A request with another token than the client's (nil: none).
    public func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
                     token: String?) async throws -> TestResponse {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: uri, method: method, headers: headers,
                                        body: body.map { ByteBuffer(string: $0) })
    }

    /// The same client with another token.
    public func with(token: String?) -> APIClient { APIClient(client: client, token: token) }
}

extension TestResponse {
    public func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try JSONCodec.decode(type, from: Data(body.readableBytesView))
    }

    public func errorCode() throws -> String { try decode(APIErrorBody.self).error.code }
}
