import ArgumentParser
import BotyardClient
import Foundation
import Shared

@main
struct BotyardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard-bench",
        abstract: "Measures Botyard next to raw rabbitmq-c (throughput), work-queue claims alone (claims), "
            + "dispatch with a million finished jobs in the store (growth), a steady fleet's CPU per job (fleet), "
            + "times queue triggers (triggers) or the store's statement binding (statements), or runs a fault soak "
            + "(soak).",
        subcommands: [Throughput.self, Claims.self, StoreGrowth.self, FleetLoad.self, Soak.self, TriggerEvaluation.self,
                      FiringPrecision.self, StatementBinding.self],
        defaultSubcommand: Throughput.self
    )
}

/// Where the broker is (ops/bench and ops/soak start one and pass it on), and how the dispatcher the
/// bench starts keeps its store.
struct BrokerOptions: ParsableArguments {
    // Environment variables are defaults read at run time, never shown by --help: the URL holds a password.
    @Option(name: .customLong("amqp-url"),
            help: "Broker URL, amqp://user:password@host:port/vhost (default: $BOTYARD_AMQP_URL). The environment variable keeps the password out of the process list.")
    var amqpURLOption: String?

    var amqpURL: String {
        amqpURLOption ?? ProcessInfo.processInfo.environment["BOTYARD_AMQP_URL"] ?? ""
    }

    @Option(help: "Folder for the database and logs.")
    var folder: String = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-bench").path

    @Option(help: "The dispatcher's --durability (full or normal).")
    var durability = "full"

    func validate() throws {
        do { _ = try AMQPURL(parsing: amqpURL) } catch { throw ValidationError("--amqp-url: \(error)") }
    }

    func makeFleet() throws -> ProcessFleet {
        let folder = URL(fileURLWithPath: folder)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fleet = ProcessFleet(folder: folder, amqpURL: amqpURL, port: freePort())
        fleet.durability = durability
        return fleet
    }
}

/// A TCP port nothing listens on right now.
func freePort() -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            _ = bind(descriptor, generic, length)
            _ = getsockname(descriptor, generic, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Prints a line at once, unbuffered, also when the output is a pipe.
func say(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Prints the bench's table, Markdown, as the README shows it.
func printTable(_ rows: [(String, String)]) {
    say()
    say("| measurement | result |")
    say("|---|---|")
    for (name, value) in rows { say("| \(name) | \(value) |") }
}
