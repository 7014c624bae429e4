import Synchronization
import TestSupport
import Testing

@testable import Worker

@Suite("A run's held start report")
struct HeldStartReportTests {
    /// The reports sent, in order, failing them when told to.
    final class Reports: Sendable {
        let sent = Mutex<[String]>([])
        let failing: Bool

        init(failing: Bool = false) {
            self.failing = failing
        }

        struct Refused: Error {}

        func send(_ report: String = "started") async throws {
            sent.withLock { $0.append(report) }
            if failing { throw Refused() }
        }

        var count: Int { sent.withLock { $0.count } }
        var order: [String] { sent.withLock { $0 } }
    }

    @Test("a run that ends within the delay sends no start report: its end carries the start")
    func shortRunSendsNone() async throws {
        let reports = Reports()
        let held = ContinuousClock.now
        let start = HeldStartReport(delay: .seconds(1)) { try await reports.send() }
        try await start.runEnded()
        #expect(ContinuousClock.now - held < .seconds(1))
        try await Task.sleep(for: .milliseconds(1_300))
        #expect(reports.count == 0)
    }

    @Test("""
        a run still going after the delay sends its start report once, and its end is reported only \
        after it, however late the start's task runs
        """)
    func longRunSendsOnceBeforeItsEnd() async throws {
        let reports = Reports()
        let start = HeldStartReport(delay: .milliseconds(50)) {
            // The start's task reaches the publisher late (a pool the whole machine keeps busy).
            try await Task.sleep(for: .milliseconds(100))
            try await reports.send("started")
        }
        try await Task.sleep(for: .milliseconds(80))
        try await start.runEnded()
        try await reports.send("finished")
        #expect(reports.order == ["started", "finished"])
        try await Task.sleep(for: .milliseconds(100))
        #expect(reports.count == 2)
    }

    @Test("no delay (a redelivery) sends the start at once, and a start that fails makes the run's end fail")
    func noDelayAndFailure() async throws {
        let reports = Reports(failing: true)
        let start = HeldStartReport(delay: .zero) { try await reports.send() }
        await #expect(throws: Reports.Refused.self) { try await start.runEnded() }
        #expect(reports.count == 1)
    }

    @Test("an abandoned start report (the job failed otherwise) stops retrying")
    func abandonedReportStops() async throws {
        let start = HeldStartReport(delay: .zero) {
            // Retries for as long as its task is not cancelled, like the event publisher.
            while true { try await Task.sleep(for: .milliseconds(10)) }
        }
        let ended = Locked(false)
        let waiting = Task {
            await start.abandon()
            ended.withLock { $0 = true }
        }
        let abandonedAt = ContinuousClock.now
        // Far longer than a cancelled 10 ms sleep takes, even on a machine the whole suite loads.
        while !ended.withLock({ $0 }) && ContinuousClock.now - abandonedAt < .seconds(30) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(ended.withLock { $0 }, "the report still retried 30 s after it was abandoned")
        waiting.cancel()
    }
}
