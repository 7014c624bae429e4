import BotyardClient
import Foundation
import Shared

/// Drives a running dispatcher through its API: registers bots, submits jobs, watches them.
struct Driver: Sendable {
    let client: DispatcherClient

    func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await client.get("/v1/health", as: [String: String].self)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DispatcherClient.Failure(description: "the dispatcher did not answer within \(timeout)", status: nil)
    }

    func register(_ bot: CreateBotRequest) async throws {
        _ = try await client.post("/v1/bots", bot, as: BotDefinition.self)
    }

    /// Submits `requests` with `concurrency` requests in flight; returns the ids in order.
    func submit(_ requests: [SubmitJobRequest], concurrency: Int = 32) async throws -> [Int64] {
        try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
            var ids = [Int64](repeating: 0, count: requests.count)
            var next = 0
            for _ in 0..<min(concurrency, requests.count) {
                let index = next
                group.addTask { (index, try await client.post("/v1/jobs", requests[index], as: JobCreated.self).id) }
                next += 1
            }
            while let (index, id) = try await group.next() {
                ids[index] = id
                if next < requests.count {
                    let index = next
                    group.addTask { (index, try await client.post("/v1/jobs", requests[index], as: JobCreated.self).id) }
                    next += 1
                }
            }
            return ids
        }
    }

    func stats() async throws -> DispatcherStats {
        try await client.get("/v1/stats", as: DispatcherStats.self)
    }

    /// Polls the stats until `done` holds; throws after `timeout`.
    func waitFor(timeout: Duration, poll: Duration = .milliseconds(20), _ done: (DispatcherStats) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let stats = try? await stats(), done(stats) { return }
            guard ContinuousClock.now < deadline else {
                throw DispatcherClient.Failure(description: "timed out after \(timeout): \((try? await stats())?.jobs ?? [:])",
                                               status: nil)
            }
            try await Task.sleep(for: poll)
        }
    }

    /// Every job, with its history.
    func allJobs(ids: [Int64]) async throws -> [JobSnapshot] {
        try await withThrowingTaskGroup(of: JobSnapshot.self) { group in
            var jobs: [JobSnapshot] = []
            var pending = ids[...]
            for _ in 0..<16 {
                guard let id = pending.popFirst() else { break }
                group.addTask { try await client.get("/v1/jobs/\(id)", as: JobSnapshot.self) }
            }
            while let job = try await group.next() {
                jobs.append(job)
                if let id = pending.popFirst() {
                    group.addTask { try await client.get("/v1/jobs/\(id)", as: JobSnapshot.self) }
                }
            }
            return jobs.sorted { $0.id < $1.id }
        }
    }
}

/// Percentiles of a sample, exact (the samples here are small).
struct Percentiles {
    let sorted: [Double]

    init(_ values: [Double]) { sorted = values.sorted() }

    func value(_ percentile: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((percentile / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[Swift.min(Swift.max(rank, 0), sorted.count - 1)]
    }

    var max: Double { sorted.last ?? .nan }
}

func median(_ values: [Double]) -> Double { Percentiles(values).value(50) }

func median(_ durations: [Duration]) -> Duration {
    .nanoseconds(Int64(median(durations.map { $0.seconds * 1e9 })))
}
