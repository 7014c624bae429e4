import Foundation
import Shared
import Testing

@testable import Worker

@Suite("Report batching")
struct ReportBatchingTests {
    @Test("a report that finds a place free goes at once, alone")
    func aloneAtOnce() {
        var batching = ReportBatching<Int>(maximumInFlight: 2, maximumBatch: 10)
        let first = batching.arrive(), second = batching.arrive()
        #expect(first && second)
        #expect(batching.inFlight == 2 && batching.waiting.isEmpty)
        let afterFirst = batching.settled(), afterSecond = batching.settled()
        #expect(afterFirst == nil && afterSecond == nil)
        #expect(batching.inFlight == 0)
    }

    @Test("reports that arrive while every place is taken go together, the first leading, in order")
    func waitersGoTogether() {
        var batching = ReportBatching<Int>(maximumInFlight: 1, maximumBatch: 10)
        let first = batching.arrive()
        #expect(first)
        for report in 1...4 {
            let went = batching.arrive()
            #expect(!went)
            batching.wait(report)
        }
        let batch = batching.settled()
        #expect(batch?.leader == 1 && batch?.followers == [2, 3, 4])
        #expect(batching.inFlight == 1 && batching.waiting.isEmpty)
        let next = batching.settled()
        #expect(next == nil && batching.inFlight == 0)
    }

    @Test("a report never overtakes those already waiting")
    func noOvertaking() {
        var batching = ReportBatching<Int>(maximumInFlight: 2, maximumBatch: 10)
        _ = batching.arrive()
        _ = batching.arrive()
        batching.wait(1)
        batching.wait(2)
        // A place frees: the waiting reports take it together; a newcomer waits for the next place.
        let batch = batching.settled()
        #expect(batch?.leader == 1 && batch?.followers == [2])
        let went = batching.arrive()
        #expect(!went)
        batching.wait(3)
        let next = batching.settled()
        #expect(next?.leader == 3 && next?.followers == [])
    }

    @Test("a batch holds at most maximumBatch reports; the rest go in the next one")
    func batchesAreBounded() {
        var batching = ReportBatching<Int>(maximumInFlight: 1, maximumBatch: 3)
        _ = batching.arrive()
        for report in 1...5 { batching.wait(report) }
        let first = batching.settled()
        #expect(first?.leader == 1 && first?.followers == [2, 3])
        let second = batching.settled()
        #expect(second?.leader == 4 && second?.followers == [5])
        let none = batching.settled()
        #expect(none == nil && batching.inFlight == 0)
    }

    @Test("one report is published as itself, several as one job.batch message the dispatcher reads back")
    func messages() throws {
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        let started = JobEvent(kind: .started, jobID: 7, attempt: 1, runID: "r", workerID: "w", host: "h", account: nil,
                               at: at)
        let finished = JobEvent(kind: .finished, jobID: 7, attempt: 1, runID: "r", workerID: "w", host: "h",
                                account: "clerk", at: at, outcome: JobOutcome(result: .succeeded, exitCode: 0, reason: "exit 0", log: "done"))
        let alone = EventPublisher.message(reporting: [started])
        #expect(alone.routingKey == "job.started" && alone.messageID == started.eventID)
        #expect(try JSONCodec.decode(JobEvent.self, from: alone.body) == started)

        let together = EventPublisher.message(reporting: [started, finished])
        #expect(together.routingKey == JobEvent.batchRoutingKey && together.persistent)
        #expect(try JSONCodec.decode([JobEvent].self, from: together.body) == [started, finished])
        #expect(!JobEvent.Kind.allCases.contains { "job.\($0.rawValue)" == JobEvent.batchRoutingKey })
    }
}
