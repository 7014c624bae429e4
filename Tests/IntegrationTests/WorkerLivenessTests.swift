import Foundation
import Shared
import Testing
import Worker

@Suite("Worker liveness")
struct WorkerLivenessTests {
    @Test("a worker shows as active with its capacity, and as lost once it stops beating")
    func activeThenLost() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let configuration = WorkerConfiguration(
                amqpURL: try await fleet.workerURL(host: "host-b"), group: "g1", workerID: "beating", host: "host-b",
                accounts: [.init(name: "robot1"), .init(name: "robot2", limit: 2)], maxConcurrent: 8, licensedSlots: 5, workDirectory: fleet.folder.appendingPathComponent("beating"),
                heartbeatInterval: .milliseconds(300))
            let worker = Task { try await WorkerApplication(configuration: configuration, logger: Fleet.logger).service.run() }
            var seen: WorkerStatus?
            // Its first heartbeat comes once every account consumes: seconds on a loaded 2-core machine.
            try await waitUntil(timeout: .seconds(30)) {
                seen = try await fleet.api.send(.get, "/v1/workers").decode([WorkerStatus].self).first
                return seen?.state == .active && seen?.accounts.allSatisfy(\.served) == true
            }
            #expect(seen?.slots == 5 && seen?.host == "host-b")
            #expect(seen?.accounts == [AccountStatus(name: "robot1", limit: 5), AccountStatus(name: "robot2", limit: 2)])

            worker.cancel()  // as abrupt as a crash for the registry: no goodbye
            _ = try? await worker.value
            try await waitUntil(timeout: .seconds(10)) {
                try await fleet.api.send(.get, "/v1/workers").decode([WorkerStatus].self).first?.state == .lost
            }
        }
    }
}
