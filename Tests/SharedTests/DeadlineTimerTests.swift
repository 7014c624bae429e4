@testable import Shared
import Synchronization
import Testing

@Suite("Deadline timer")
struct DeadlineTimerTests {
    /// What ran, in order, and how long after the test began.
    final class Runs: Sendable {
        private let started = ContinuousClock.now
        private let runs = Mutex<[(name: String, after: Duration)]>([])

        func record(_ name: String) {
            let after = ContinuousClock.now - started
            runs.withLock { $0.append((name, after)) }
        }

        var names: [String] { runs.withLock { $0.map(\.name) } }

        func after(_ name: String) -> Duration? { runs.withLock { $0.first { $0.name == name }?.after } }

        /// Waits until `count` actions ran, up to `limit`.
        func waitFor(_ count: Int, upTo limit: Duration = .seconds(5)) async throws {
            let deadline = ContinuousClock.now + limit
            while runs.withLock({ $0.count }) < count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    @Test("actions run once their deadline has passed, the earliest first, whatever order they came in")
    func earliestFirst() async throws {
        let timer = DeadlineTimer()
        let runs = Runs()
        timer.schedule(after: .milliseconds(90)) { runs.record("90 ms") }
        timer.schedule(after: .milliseconds(30)) { runs.record("30 ms") }
        timer.schedule(after: .milliseconds(60)) { runs.record("60 ms") }
        try await runs.waitFor(3)
        #expect(runs.names == ["30 ms", "60 ms", "90 ms"])
        #expect(try #require(runs.after("30 ms")) >= .milliseconds(30))
        #expect(try #require(runs.after("90 ms")) >= .milliseconds(90))
        #expect(timer.counts == (pending: 0, entries: 0))
    }

    @Test("a deadline before every other one wakes the sleeping thread for it")
    func earlierDeadlineWakes() async throws {
        let timer = DeadlineTimer()
        let runs = Runs()
        timer.schedule(after: .seconds(60)) { runs.record("a minute") }
        // The thread now sleeps until the minute is over, unless the next deadline wakes it.
        try await Task.sleep(for: .milliseconds(20))
        timer.schedule(after: .milliseconds(20)) { runs.record("20 ms") }
        try await runs.waitFor(1)
        #expect(runs.names == ["20 ms"])
        #expect(try #require(runs.after("20 ms")) < .seconds(5))
    }

    @Test("a cancelled action never runs, and cancelled entries do not pile up")
    func cancelled() async throws {
        let timer = DeadlineTimer()
        let runs = Runs()
        let token = timer.schedule(after: .milliseconds(20)) { runs.record("cancelled") }
        timer.cancel(token)
        timer.schedule(after: .milliseconds(60)) { runs.record("kept") }
        try await runs.waitFor(1)
        try await Task.sleep(for: .milliseconds(50))
        #expect(runs.names == ["kept"])

        // Long timeouts that end early, as a bot's timeout when it exits at once.
        let tokens = (0..<1_000).map { _ in timer.schedule(after: .seconds(3_600)) { runs.record("an hour") } }
        for token in tokens.dropLast() { timer.cancel(token) }
        #expect(timer.counts.pending == 1)
        #expect(timer.counts.entries <= 64)
    }

    @Test("a delay past any clock's reach waits for ever, and a negative one runs at once")
    func extremeDelays() async throws {
        let timer = DeadlineTimer()
        let runs = Runs()
        let never = timer.schedule(after: .seconds(Int64.max)) { runs.record("never") }
        timer.schedule(after: .seconds(-5)) { runs.record("at once") }
        try await runs.waitFor(1)
        #expect(runs.names == ["at once"])
        #expect(timer.counts.pending == 1)
        timer.cancel(never)
    }

    @Test("the heap hands out its elements in order, also after some were removed")
    func heapOrder() {
        var generator = SystemRandomNumberGenerator()
        var heap = DeadlineHeap<Int>(before: <)
        let values = (0..<500).map { _ in Int.random(in: 0..<10_000, using: &generator) }
        for value in values { heap.insert(value) }
        heap.removeAll { $0 % 3 == 0 }
        var taken: [Int] = []
        while let first = heap.first {
            taken.append(first)
            heap.removeFirst()
        }
        #expect(taken == values.filter { $0 % 3 != 0 }.sorted())
    }
}
