import ArgumentParser
import BotyardClient
import Foundation
import Shared

/// `botyard-bench growth`: the dispatch rates (single submissions, and batches of 1,000) on an
/// empty store, then on the same store with a million finished jobs added (the dispatcher stopped
/// meanwhile), in one run.
struct StoreGrowth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "growth", abstract: "Measure dispatch with an empty store and with many finished jobs in it.")

    @OptionGroup var broker: BrokerOptions
    @Option(help: "Finished jobs added to the store.") var finishedJobs = 1_000_000
    @Option(help: "Jobs per dispatch run.") var dispatchJobs = 2_000
    @Option(help: "Jobs per batch dispatch run, sent as batches of 1,000.") var batchJobs = 10_000
    @Option(help: "Runs of each figure; the table shows the median.") var repeats = 3

    func validate() throws {
        guard finishedJobs > 0, dispatchJobs > 0, batchJobs > 0, repeats > 0 else {
            throw ValidationError("--finished-jobs, --dispatch-jobs, --batch-jobs and --repeats must be positive")
        }
    }

    func run() async throws {
        let fleet = try broker.makeFleet()
        defer { fleet.stopAll() }
        say("dispatch path, empty store: \(repeats) × \(dispatchJobs) jobs through POST /v1/jobs, 32 connections, "
            + "and \(repeats) × \(batchJobs) in batches of 1,000")
        let empty = try await measure(on: fleet, group: "empty", register: true)

        fleet.stopDispatcher()
        let path = fleet.folder.appendingPathComponent("botyard.sqlite").path
        say("adding \(finishedJobs) finished jobs (history, applied reports, logs) to the store")
        let start = ContinuousClock.now
        try FinishedJobFiller(path: path).fill(finishedJobs, like: 1)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        say(String(format: "  %.0f s; the store is %.0f MiB", (ContinuousClock.now - start).seconds,
                   Double(size) / 1_048_576))

        say("dispatch path, \(finishedJobs) finished jobs in the store")
        let filled = try await measure(on: fleet, group: "filled", register: false)
        func ratio(_ runs: KeyPath<Measured, [DispatchRun]>) -> String {
            let rate = { (measured: Measured) in median(measured[keyPath: runs].map(\.rate)) }
            return String(format: "%.2f ×", rate(filled) / rate(empty))
        }
        let withJobs = "the same with \(finishedJobs) finished jobs in the store"
        printTable([
            ("dispatch: single POST, 32 connections, empty store", DispatchRun.describe(empty.single)),
            ("dispatch: \(withJobs)", DispatchRun.describe(filled.single)),
            ("with those jobs / empty", ratio(\.single)),
            ("dispatch: batches of 1,000, 2 connections, empty store", DispatchRun.describe(empty.batches)),
            ("dispatch: \(withJobs)", DispatchRun.describe(filled.batches)),
            ("with those jobs / empty", ratio(\.batches)),
        ])
    }

    /// The runs of one store's measurement.
    private struct Measured {
        var single: [DispatchRun]
        var batches: [DispatchRun]
    }

    private func measure(on fleet: ProcessFleet, group: String, register: Bool) async throws -> Measured {
        let driver = try await fleet.startDispatcher(connections: 32)
        if register {
            try await driver.register(CreateBotRequest(name: "noop", argv: ["/bin/true"], timeoutSeconds: 60,
                                                       retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
        }
        let submitter = SocketSubmitter(port: fleet.port, token: fleet.token)
        let dispatch = DispatchMeasurement(driver: driver, submitter: submitter,
                                           dispatcher: fleet.dispatcher!.processIdentifier)
        return Measured(
            single: try await dispatch.runs(repeats, of: dispatchJobs, group: group),
            batches: try await dispatch.runs(repeats, of: batchJobs, group: "\(group)-batched", to: .batches(of: 1_000),
                                             connections: 2))
    }
}
