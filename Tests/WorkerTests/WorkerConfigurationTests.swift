import Foundation
import Shared
import Testing

@testable import Worker

@Suite("Worker configuration")
struct WorkerConfigurationTests {
    @Test("a worker refuses to start with names that cannot become queue names, or with negative times")
    func problems() {
        let configuration = WorkerConfiguration(
            group: "g1", workerID: "w1", host: "vm1 corp", accounts: [.init(name: "corp.x"), .init(name: "r1", limit: 0)],
            terminationGrace: .seconds(-1), shutdownDeadline: .seconds(-1), heartbeatInterval: .zero)
        #expect(configuration.problems == [
            "host must be a valid name",
            "account 'corp.x': \(Names.accountRule)",
            "account r1: limit must be between 1 and 1000",
            "termination grace must not be negative",
            "shutdown deadline must not be negative",
            "heartbeat interval must be positive",
        ])
    }

    @Test("slots are the smaller of max concurrent and licensed slots; an account without a limit may use them all")
    func slots() {
        let configuration = WorkerConfiguration(
            group: "g1", host: "vm1.corp", accounts: [.init(name: "r1", limit: 2), .init(name: "r2")], maxConcurrent: 20,
            licensedSlots: 5)
        #expect(configuration.problems.isEmpty)
        #expect(configuration.effectiveSlots == 5)
        #expect(configuration.accountLimits == ["r1": 2, "r2": 5])
    }

    @Test("a run may be paused for a day by default; a pause limit must be positive")
    func pauseLimit() {
        #expect(WorkerConfiguration(accounts: [.init(name: "r1")]).pauseLimit == .seconds(86_400))
        #expect(WorkerConfiguration(host: "h1", accounts: [.init(name: "r1")], pauseLimit: .zero).problems
            == ["pause limit must be positive"])
    }

    @Test("an idle worker gives memory back after 10 s by default, or never; a wait for it must be positive")
    func releaseMemoryAfter() {
        #expect(WorkerConfiguration(accounts: [.init(name: "r1")]).releaseMemoryAfter == .seconds(10))
        #expect(WorkerConfiguration(host: "h1", accounts: [.init(name: "r1")], releaseMemoryAfter: nil).problems.isEmpty)
        #expect(WorkerConfiguration(host: "h1", accounts: [.init(name: "r1")], releaseMemoryAfter: .seconds(-1)).problems
            == ["release memory after must be positive (or none)"])
    }
}
