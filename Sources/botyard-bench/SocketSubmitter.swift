import Foundation
import Shared
import Synchronization

/// Submits jobs for the dispatch and end-to-end measurements: keep-alive HTTP/1.1 connections
/// (``HTTPConnection``), each on a thread of its own, taking the next request from a shared
/// counter. Bodies are encoded before the clock starts. As for the claim measurement, the lean
/// client keeps the bench's own CPU from crowding the dispatcher on two cores (URLSession costs
/// about ten times as much per request).
struct SocketSubmitter: Sendable {
    let port: Int

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Encodes `requests` for ``submit(_:connections:)``.
    static func encode(_ requests: [SubmitJobRequest]) throws -> [[UInt8]] {
        try requests.map { Array(try JSONCodec.encode($0)) }
    }

    /// Encodes `requests` as batches of `size` for ``submit(_:connections:path:)`` to `/v1/jobs/batch`.
    static func encodeBatches(_ requests: [SubmitJobRequest], size: Int) throws -> [[UInt8]] {
        try stride(from: 0, to: requests.count, by: size).map {
            Array(try JSONCodec.encode(SubmitJobBatchRequest(jobs: Array(requests[$0..<min($0 + size, requests.count)]))))
        }
    }

    /// POSTs every body to `path` over `connections` connections; returns the ids the answers
    /// name, in the order of the bodies.
    func submit(_ bodies: [[UInt8]], connections: Int = 32, path: String = "/v1/jobs") async throws -> [Int64] {
        let next = NextIndex()
        let answers = try await withThrowingTaskGroup(of: [(Int, [Int64])].self) { group in
            for _ in 0..<min(connections, bodies.count) {
                group.addTask {
                    try await onThread {
                        let connection = try HTTPConnection(port: port)
                        var answered: [(Int, [Int64])] = []
                        while true {
                            let index = next.take()
                            guard index < bodies.count else { return answered }
                            let answer = try connection.send("POST", path, body: bodies[index])
                            guard answer.status == 201 else {
                                throw Failure(description: "POST \(path): HTTP \(answer.status): "
                                    + String(decoding: answer.body.prefix(300), as: UTF8.self))
                            }
                            answered.append((index, try Self.ids(in: answer.body)))
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return answers.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }

    /// The ids of a `JobCreated` or a `JobBatchCreated` answer.
    private static func ids(in body: [UInt8]) throws -> [Int64] {
        let data = Data(body)
        if let batch = try? JSONDecoder().decode(JobBatchCreated.self, from: data) { return batch.jobs.map(\.id) }
        return [try JSONDecoder().decode(JobCreated.self, from: data).id]
    }
}

/// The next body to send, shared by the connections' threads.
private final class NextIndex: Sendable {
    private let value = Atomic<Int>(0)

    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
