import Foundation
import Shared
import Synchronization

/// Submits jobs for the dispatch and end-to-end measurements, and work items for the claim
/// measurement: keep-alive HTTP/1.1 connections (``HTTPConnection``), each on a thread of its
/// own, taking the next request from a shared counter. Bodies are encoded (``Endpoint/bodies(_:)``)
/// before the clock starts. As for the claimers, the lean client keeps the bench's own CPU from
/// crowding the dispatcher on two cores (URLSession costs about ten times as much per request).
struct SocketSubmitter: Sendable {
    let port: Int
    /// The API token every request carries.
    let token: String?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Where submissions go: one job a request, or batches of them.
    enum Endpoint: Sendable {
        case single
        case batches(of: Int)

        var path: String {
            switch self {
            case .single: "/v1/jobs"
            case .batches: "/v1/jobs/batch"
            }
        }

        /// The request bodies for `requests`.
        func bodies(_ requests: [SubmitJobRequest]) throws -> [[UInt8]] {
            switch self {
            case .single:
                try requests.map { Array(try JSONCodec.encode($0)) }
            case .batches(let size):
                try stride(from: 0, to: requests.count, by: size).map {
                    let batch = SubmitJobBatchRequest(jobs: Array(requests[$0..<min($0 + size, requests.count)]))
                    return Array(try JSONCodec.encode(batch))
                }
            }
        }

        /// The ids an answer names, read by hand (``JSONReadable``): the load generator's CPU is taken
        /// from the dispatcher it measures.
        func ids(in body: [UInt8]) throws -> [Int64] {
            switch self {
            case .single: [try JSONCodec.decode(JobCreated.self, from: Data(body)).id]
            case .batches: try JSONCodec.decode(JobBatchCreated.self, from: Data(body)).jobs.map(\.id)
            }
        }
    }

    /// POSTs every body (made by ``Endpoint/bodies(_:)``) to `endpoint` over `connections`
    /// connections; returns the ids the answers name, in the order of the bodies.
    func submit(_ bodies: [[UInt8]], to endpoint: Endpoint = .single, connections: Int = 32) async throws -> [Int64] {
        try await post(bodies, to: endpoint.path, connections: connections, ids: endpoint.ids(in:))
    }

    /// POSTs every body to `path` over `connections` connections, expecting `201` for each;
    /// returns the ids that `ids` reads in the answers, in the order of the bodies.
    func post(_ bodies: [[UInt8]], to path: String, connections: Int = 32,
              ids: @escaping @Sendable ([UInt8]) throws -> [Int64]) async throws -> [Int64] {
        let next = NextIndex()
        let answers = try await withThrowingTaskGroup(of: [(Int, [Int64])].self) { group in
            for _ in 0..<min(connections, bodies.count) {
                group.addTask {
                    try await onThread {
                        let connection = try HTTPConnection(port: port, token: token)
                        var answered: [(Int, [Int64])] = []
                        while true {
                            let index = next.take()
                            guard index < bodies.count else { return answered }
                            let answer = try connection.send("POST", path, body: bodies[index])
                            guard answer.status == 201 else {
                                throw Failure(description: "POST \(path): HTTP \(answer.status): "
                                    + String(decoding: answer.body.prefix(300), as: UTF8.self))
                            }
                            answered.append((index, try ids(answer.body)))
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return answers.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }
}

/// The next body to send, shared by the connections' threads.
private final class NextIndex: Sendable {
    private let value = Atomic<Int>(0)

    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
