import Foundation
import Shared

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Talks to the dispatcher's HTTP API.
public struct DispatcherClient: Sendable {
    public let baseURL: URL
    let session: URLSession
    /// Sent as `Authorization: Bearer …`: an API token, or a bot's job token when it calls from
    /// inside its job.
    public let bearerToken: String?

    /// - Parameter connections: HTTP connections kept open to the dispatcher at most.
    public init(baseURL: URL, connections: Int = 6, bearerToken: String? = nil) {
        self.baseURL = baseURL
        self.bearerToken = bearerToken
        let configuration = URLSessionConfiguration.default
        configuration.httpMaximumConnectionsPerHost = connections
        configuration.timeoutIntervalForRequest = 30
        self.session = URLSession(configuration: configuration)
    }

    /// A request that failed: unreachable dispatcher, or an error answer (its code and message).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// The HTTP status, when the dispatcher answered.
        public var status: Int?

        public init(description: String, status: Int?) {
            self.description = description
            self.status = status
        }
    }

    public func get<Value: Decodable>(_ path: String, as type: Value.Type) async throws -> Value {
        try decode(type, from: try await send("GET", path, body: nil))
    }

    public func post<Value: Decodable>(_ path: String, _ body: (some Encodable)?, as type: Value.Type) async throws -> Value {
        try decode(type, from: try await send("POST", path, body: try body.map { try JSONCodec.encode($0) }))
    }

    public func put<Value: Decodable>(_ path: String, _ body: some Encodable, as type: Value.Type) async throws -> Value {
        try decode(type, from: try await send("PUT", path, body: try JSONCodec.encode(body)))
    }

    /// A PUT whose answer has no body (`204 No Content`).
    public func putNoContent(_ path: String, _ body: some Encodable) async throws {
        _ = try await send("PUT", path, body: try JSONCodec.encode(body))
    }

    /// A POST whose answer may be `204 No Content` (nil), e.g. a claim that found nothing.
    public func postUnlessEmpty<Value: Decodable>(_ path: String, _ body: (some Encodable)?,
                                                  as type: Value.Type) async throws -> Value? {
        let data = try await send("POST", path, body: try body.map { try JSONCodec.encode($0) })
        return data.isEmpty ? nil : try decode(type, from: data)
    }

    /// A DELETE whose answer has no body (`204 No Content`).
    public func delete(_ path: String) async throws {
        _ = try await send("DELETE", path, body: nil)
    }

    /// Freezes a running job's bot (`POST /v1/jobs/{id}/pause`).
    public func pause(jobID: Int64) async throws -> JobSnapshot {
        try await post("/v1/jobs/\(jobID)/pause", Optional<String>.none, as: JobSnapshot.self)
    }

    /// Thaws a paused job's bot (`POST /v1/jobs/{id}/resume`).
    public func resume(jobID: Int64) async throws -> JobSnapshot {
        try await post("/v1/jobs/\(jobID)/resume", Optional<String>.none, as: JobSnapshot.self)
    }

    /// Clears the hold of an account whose cleanup failed (`POST /v1/hosts/{host}/accounts/{account}/clear-hold`).
    public func clearHold(host: String, account: String) async throws -> HoldCleared {
        try await post("/v1/hosts/\(host)/accounts/\(account)/clear-hold", Optional<String>.none, as: HoldCleared.self)
    }

    public func text(_ path: String) async throws -> String {
        String(decoding: try await send("GET", path, body: nil), as: UTF8.self)
    }

    /// Sends one request and returns the body of its 2xx answer.
    /// - Throws: ``Failure`` for an error answer (its code and message) or no answer.
    public func send(_ method: String, _ path: String, body: Data?) async throws -> Data {
        guard let url = URL(string: path, relativeTo: baseURL) else { throw Failure(description: "bad path \(path)", status: nil) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let bearerToken { request.setValue("Bearer \(bearerToken)", forHTTPHeaderField: "Authorization") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw Failure(description: "cannot reach the dispatcher at \(baseURL.absoluteString): \(error.localizedDescription)", status: nil)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            if let body = try? JSONCodec.decode(APIErrorBody.self, from: data) {
                let job = body.error.jobID.map { ", recorded as job \($0)" } ?? ""
                throw Failure(description: "\(body.error.message) [\(body.error.code), HTTP \(status)\(job)]", status: status)
            }
            throw Failure(description: "HTTP \(status): \(String(decoding: data, as: UTF8.self))", status: status)
        }
        return data
    }

    private func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        do {
            return try JSONCodec.decode(type, from: data)
        } catch {
            throw Failure(description: "unexpected answer from the dispatcher: \(error)", status: nil)
        }
    }
}
