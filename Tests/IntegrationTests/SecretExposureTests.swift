import Foundation
import Testing

/// Where a broker password could show: the programs' own help and errors.
@Suite("Secrets in the programs' output")
struct SecretExposureTests {
    static let planted = "planted-Secret-8c1f"

    @Test("--help shows where the broker URL comes from, never the password the environment holds",
          arguments: [["botyard-worker", "--help"], ["botyard-dispatcher", "serve", "--help"],
                      ["botyard-bench", "throughput", "--help"], ["botyard-bench", "soak", "--help"]])
    func helpHidesEnvironment(command: [String]) throws {
        let output = try run(command[0], Array(command.dropFirst()),
                             environment: ["BOTYARD_AMQP_URL": "amqp://robot:\(Self.planted)@127.0.0.1:5672/%2F"])
        #expect(output.contains("BOTYARD_AMQP_URL"))
        #expect(!output.contains(Self.planted))
    }

    @Test("a broker URL that does not parse is refused without echoing it", arguments: ["botyard-worker", "botyard-dispatcher"])
    func badURLNotEchoed(program: String) throws {
        let output = try run(program, [], environment: ["BOTYARD_AMQP_URL": "amqps//robot:\(Self.planted)@"])
        #expect(output.contains("--amqp-url"))
        #expect(!output.contains(Self.planted))
    }

    /// Runs `program` to its end; its standard output and error.
    private func run(_ program: String, _ arguments: [String], environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = WorkerProcess.binaries.appendingPathComponent(program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }
}
