import ArgumentParser
import Foundation
import Shared

/// Sizes of the work-queue claim benchmark.
struct ClaimOptions: ParsableArguments {
    @Option(help: "Work items per claim run (added one a request from 32 connections, then drained).")
    var claimItems = 20_000
    @Option(help: "Concurrent claimers, each with a keep-alive connection of its own.") var claimers = 8
    @Option(help: "The claimers' HTTP client: socket (a lean keep-alive client) or urlsession (DispatcherClient).")
    var claimClient: ClaimClient = .socket

    func validate() throws {
        guard claimItems > 0, claimers > 0 else {
            throw ValidationError("--claim-items and --claimers must be positive")
        }
    }
}

/// Work-queue claims through the HTTP API: items added one a request from 32 connections (as
/// producers add them; timed too), then drained by claimers that each loop claim → complete
/// until the queue answers 204, each on a thread and connection of its own. Every run is
/// checked: each item completed by exactly one claimer, the API's counts all `successful` and
/// nothing else, and a sample of histories claimed and completed once; the run throws otherwise.
struct ClaimThroughput {
    let driver: Driver
    let port: Int
    /// The dispatcher's process id, for its CPU time.
    let dispatcher: Int32
    let options: ClaimOptions

    /// What one claimer did.
    struct Tally: Sendable {
        var ids: [Int64] = []
        /// Claim request sent → complete answered, in milliseconds.
        var roundTrips: [Double] = []
    }

    /// One run: items claimed and completed per second, every round trip, and CPU time per item
    /// (of the dispatcher, and of this process's claimers), which tells which side is the limit;
    /// items added per second, and the dispatcher's CPU time for adding them.
    struct Run {
        var addRate: Double
        var addDispatcherCPU: Duration
        var rate: Double
        var roundTrips: [Double]
        var dispatcherCPU: Duration
        var claimersCPU: Duration
    }

    /// Runs `repeats` times, each on a queue of its own; returns the table's rows (median rates of
    /// adding and of claiming, round trips of every run).
    func rows(repeats: Int) async throws -> [(String, String)] {
        say("work queue claims: \(repeats) × \(options.claimItems) items, \(options.claimers) claimers looping "
            + "claim → complete over HTTP (\(options.claimClient.rawValue) client)")
        var runs: [Run] = []
        for number in 1...repeats {
            runs.append(try await measure())
            let run = runs.last!
            let perItem = { (cpu: Duration) in String(format: "%.0f µs", microsecondsPerItem(cpu)) }
            say("  run \(number): added \(Int(run.addRate)) items/s (dispatcher CPU \(perItem(run.addDispatcherCPU)) "
                + "per item); claimed \(Int(run.rate)) items/s, every item successful once; CPU per item: dispatcher "
                + "\(perItem(run.dispatcherCPU)), claimers \(perItem(run.claimersCPU)); load \(loadAverage())")
        }
        return [
            ("work queue: items added one a request, 32 connections (median; dispatcher CPU per item)",
             String(format: "%d items/s; %.0f µs", Int(median(runs.map(\.addRate))),
                    median(runs.map { microsecondsPerItem($0.addDispatcherCPU) }))),
            ("work queue: claimed + completed, \(options.claimers) claimers over HTTP",
             "\(Int(median(runs.map(\.rate)))) items/s"),
            ("work queue: claim + complete round trip (p50 / p90 / p99 / max)",
             Throughput.describe(runs.flatMap(\.roundTrips))),
            // CPU time moves far less than the rate with what else the shared machine runs.
            ("work queue: CPU per item, dispatcher / claimers (median)",
             String(format: "%.0f / %.0f µs", median(runs.map { microsecondsPerItem($0.dispatcherCPU) }),
                    median(runs.map { microsecondsPerItem($0.claimersCPU) }))),
        ]
    }

    private func microsecondsPerItem(_ cpu: Duration) -> Double { cpu.seconds * 1e6 / Double(options.claimItems) }

    func measure() async throws -> Run {
        let queue = "bench-claims-\(UUID.random().uuidString.prefix(8).lowercased())"
        _ = try await driver.client.post("/v1/queues", WorkQueueDefinition(name: queue), as: WorkQueueDefinition.self)
        let bodies = try (0..<options.claimItems).map {
            Array(try JSONCodec.encode(AddItemRequest(payload: .object(["n": .number(Double($0))]),
                                                      reference: "item-\($0)")))
        }
        let adder = SocketSubmitter(port: port, token: driver.client.bearerToken)
        let (addStart, addCPUBefore) = (ContinuousClock.now, CPUTime.of(process: dispatcher))
        let added = try await adder.post(bodies, to: "/v1/queues/\(queue)/items") {
            [try JSONCodec.decode(AddedItem.self, from: Data($0)).id]
        }
        let (addElapsed, addCPU) = (ContinuousClock.now - addStart, CPUTime.of(process: dispatcher) - addCPUBefore)
        let (dispatcherBefore, claimersBefore) = (CPUTime.of(process: dispatcher), CPUTime.ofThisProcess())
        let start = ContinuousClock.now
        let tallies = try await drain(queue)
        let elapsed = ContinuousClock.now - start
        let (dispatcherAfter, claimersAfter) = (CPUTime.of(process: dispatcher), CPUTime.ofThisProcess())
        try await verify(queue: queue, added: added, tallies: tallies)
        return Run(addRate: Double(added.count) / addElapsed.seconds, addDispatcherCPU: addCPU,
                   rate: Double(added.count) / elapsed.seconds, roundTrips: tallies.flatMap(\.roundTrips),
                   dispatcherCPU: dispatcherAfter - dispatcherBefore, claimersCPU: claimersAfter - claimersBefore)
    }

    private func drain(_ queue: String) async throws -> [Tally] {
        let client = options.claimClient
        let (port, baseURL, token) = (port, driver.client.baseURL, driver.client.bearerToken)
        return try await withThrowingTaskGroup(of: Tally.self) { group in
            for _ in 0..<options.claimers {
                group.addTask {
                    try await onThread {
                        let line = try client.makeLine(port: port, baseURL: baseURL, token: token)
                        var tally = Tally()
                        while true {
                            let sent = ContinuousClock.now
                            guard let (id, token) = try line.claim(from: queue) else { return tally }
                            try line.complete(id, token: token)
                            tally.ids.append(id)
                            tally.roundTrips.append((ContinuousClock.now - sent).seconds * 1000)
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    private func verify(queue: String, added: [Int64], tallies: [Tally]) async throws {
        let completed = tallies.flatMap(\.ids)
        let unique = Set(completed)
        guard unique.count == completed.count else {
            throw ClaimFailure("\(queue): \(completed.count - unique.count) items were claimed and completed twice")
        }
        let missing = Set(added).subtracting(unique)
        guard missing.isEmpty, unique.count == added.count else {
            let strangers = unique.subtracting(added).count
            throw ClaimFailure("\(queue): \(missing.count) of \(added.count) items were never completed "
                + "(e.g. \(missing.sorted().prefix(5))), \(strangers) completed that were not added")
        }
        let counts = try await driver.client.get("/v1/queues/\(queue)", as: QueueCounts.self).counts
        let others = counts.filter { $0.key != WorkItemState.successful.rawValue && $0.value != 0 }
        guard counts[WorkItemState.successful.rawValue] == added.count, others.isEmpty else {
            throw ClaimFailure("\(queue): the API counts \(counts), not \(added.count) successful and nothing else")
        }
        // Each history says claimed once, completed once: no second lease, no retry.
        for id in stride(from: 0, to: added.count, by: max(1, added.count / 50)).map({ added[$0] }) {
            let history = try await driver.client.get("/v1/items/\(id)", as: ItemHistory.self).history.map(\.to)
            guard history == [.new, .inProgress, .successful] else {
                throw ClaimFailure("\(queue): item \(id) went through \(history.map(\.rawValue)), "
                    + "not new → in-progress → successful")
            }
        }
    }

    /// `201` answer to an item's addition, its id only.
    private struct AddedItem: Decodable { var id: Int64 }

    /// `GET /v1/queues/{name}`, its counts only.
    private struct QueueCounts: Decodable { var counts: [String: Int] }

    /// `GET /v1/items/{id}`, the states of its history only.
    private struct ItemHistory: Decodable {
        struct Change: Decodable { var to: WorkItemState }
        var history: [Change]
    }
}
