import Foundation
import Hummingbird
import Shared

/// JSON in and out of handlers, with Botyard's encoding (ISO-8601 dates) and clear errors.
enum JSONResponse {
    static let maximumBodyBytes = 1024 * 1024

    static func make<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONCodec.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Reads and decodes the request body; larger than `limit` → 413, else as ``decodeBody(_:from:)``.
    static func decode<Value: Decodable>(_ type: Value.Type, from request: Request,
                                         limit: Int = maximumBodyBytes) async throws -> Value {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError.payloadTooLarge(limit: limit)
        }
        return try decodeBody(type, from: buffer)
    }

    /// Decodes a body already read; not JSON or wrong shape → 400, a value its type refuses
    /// (``RefusedValue``, an unknown launch method) → 422.
    static func decodeBody<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        do {
            return try JSONCodec.decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw error.refused ? APIError.invalid([error.detail]) : APIError.malformedJSON(error.detail)
        }
    }
}
