import Foundation
import TestSupport
import Testing

/// Where a broker password could show: the programs' own help and errors.
@Suite("Secrets in the programs' output")
struct SecretExposureTests {
    static let planted = "planted-Secret-8c1f"

    @Test("--help shows where the broker URL comes from, never the password the environment holds",
          arguments: [["botyard-worker", "--help"], ["botyard-dispatcher", "serve", "--help"],
                      ["botyard-bench", "throughput", "--help"], ["botyard-bench", "soak", "--help"]])
    func helpHidesEnvironment(command: [String]) async throws {
        let output = try await run(command[0], Array(command.dropFirst()),
                             environment: ["BOTYARD_AMQP_URL": "amqp://robot:\(Self.planted)@127.0.0.1:5672/%2F"])
        #expect(output.contains("BOTYARD_AMQP_URL"))
        #expect(!output.contains(Self.planted))
    }

    @Test("a broker URL that does not parse is refused without echoing it", arguments: ["botyard-worker", "botyard-dispatcher"])
    func badURLNotEchoed(program: String) async throws {
        let output = try await run(program, [], environment: ["BOTYARD_AMQP_URL": "amqps//robot:\(Self.planted)@"])
        #expect(output.contains("--amqp-url"))
        #expect(!output.contains(Self.planted))
    }

    /// Runs `program` to its end; its standard output and error.
    private func run(_ program: String, _ arguments: [String], environment: [String: String]) async throws -> String {
        let result = try await runCommand(WorkerProcess.binaries.appendingPathComponent(program), arguments,
                                          environment: environment)
        return result.output + result.errors
    }
}
