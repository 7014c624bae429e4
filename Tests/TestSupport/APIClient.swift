import Foundation
import Hummingbird
import HummingbirdTesting
import Shared

/// Sends requests through Hummingbird's test client and reads JSON answers.
public struct APIClient: Sendable {
    public let client: any TestClientProtocol

    public init(client: any TestClientProtocol) {
        self.client = client
    }

    public func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil) async throws -> TestResponse {
        try await client.execute(uri: uri, method: method, body: body.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    public func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try JSONCodec.decode(type, from: Data(body.readableBytesView))
    }

    public func errorCode() throws -> String { try decode(APIErrorBody.self).error.code }
}
