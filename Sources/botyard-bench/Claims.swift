import ArgumentParser
import BotyardClient
import Foundation

/// The work-queue claim benchmark alone, on a dispatcher of its own with no workers: a quicker
/// loop than the whole table when working on the claim path.
struct Claims: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure work-queue claims alone and print their rows.")

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var claims: ClaimOptions
    @Option(help: "Runs; the table shows the median rate.") var repeats = 3

    func run() async throws {
        let fleet = try broker.makeFleet()
        defer { fleet.stopAll() }
        let driver = try await fleet.startDispatcher(connections: 8)
        let claimBench = ClaimThroughput(driver: driver, port: fleet.port,
                                         dispatcher: fleet.dispatcher!.processIdentifier, options: claims)
        var rows = try await claimBench.rows(repeats: repeats)
        let memory = ProcessFleet.peakMemoryMiB(fleet.dispatcher).map { String(format: "%.0f", $0) } ?? "?"
        rows.append(("peak RSS", "dispatcher \(memory) MiB"))
        printTable(rows)
    }
}
