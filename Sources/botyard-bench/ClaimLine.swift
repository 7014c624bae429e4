import ArgumentParser
import BotyardClient
import Foundation
import Shared
import Synchronization

/// One claimer's line to the dispatcher, used from that claimer's own thread: claim the next
/// item of a queue, complete an item. Two kinds, so the bench can show what the client costs.
protocol ClaimLine {
    /// The next item's id and lease token, or nil when the queue has none left (204).
    func claim(from queue: String) throws -> (id: Int64, token: String)?
    func complete(_ id: Int64, token: String) throws
}

/// Which HTTP client the claimers use.
enum ClaimClient: String, CaseIterable, ExpressibleByArgument {
    /// A blocking HTTP/1.1 keep-alive connection per claimer (``HTTPConnection``).
    case socket
    /// `DispatcherClient` (URLSession), as the `botyard` CLI uses it.
    case urlsession

    func makeLine(port: Int, baseURL: URL, token: String?) throws -> any ClaimLine {
        switch self {
        case .socket: try SocketClaimLine(port: port, token: token)
        case .urlsession: URLSessionClaimLine(client: DispatcherClient(baseURL: baseURL, connections: 1,
                                                                       bearerToken: token))
        }
    }
}

/// The fields of a claim's answer the claimer needs; the rest is skipped.
private struct ClaimAnswer: Decodable {
    struct Item: Decodable { var id: Int64 }
    var item: Item
    var leaseToken: String
}

/// A claim line over one ``HTTPConnection``.
final class SocketClaimLine: ClaimLine {
    private let connection: HTTPConnection
    private let decoder = JSONDecoder()

    init(port: Int, token: String?) throws {
        connection = try HTTPConnection(port: port, token: token)
    }

    func claim(from queue: String) throws -> (id: Int64, token: String)? {
        let answer = try connection.send("POST", "/v1/queues/\(queue)/claim")
        switch answer.status {
        case 204:
            return nil
        case 200:
            let claimed = try decoder.decode(ClaimAnswer.self, from: Data(answer.body))
            return (claimed.item.id, claimed.leaseToken)
        default:
            throw ClaimFailure("claim: HTTP \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
        }
    }

    func complete(_ id: Int64, token: String) throws {
        // The token is a UUID: nothing in it needs escaping.
        let body = Array(#"{"leaseToken":"\#(token)"}"#.utf8)
        let answer = try connection.send("POST", "/v1/items/\(id)/complete", body: body)
        guard answer.status == 200 else {
            throw ClaimFailure("complete item \(id): HTTP \(answer.status): "
                + String(decoding: answer.body, as: UTF8.self))
        }
    }
}

/// A claim line over `DispatcherClient` (URLSession). Its calls are async; the claimer's thread
/// is not one of the cooperative pool's, so it may wait for them.
struct URLSessionClaimLine: ClaimLine {
    let client: DispatcherClient

    func claim(from queue: String) throws -> (id: Int64, token: String)? {
        let claimed = try blocking {
            try await client.postUnlessEmpty("/v1/queues/\(queue)/claim", ClaimItemRequest(), as: ClaimAnswer.self)
        }
        return claimed.map { ($0.item.id, $0.leaseToken) }
    }

    func complete(_ id: Int64, token: String) throws {
        _ = try blocking {
            try await client.post("/v1/items/\(id)/complete", SettleItemRequest(leaseToken: token),
                                  as: JSONValue.self)
        }
    }

    private func blocking<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
        let result = Mutex<Result<Value, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome: Result<Value, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

/// The claim benchmark found something wrong: it fails the run.
struct ClaimFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
