import Foundation
import Testing

@testable import Dispatcher

@Suite("The lease keeper's alarm")
struct LeaseAlarmTests {
    static let t0 = Date(timeIntervalSince1970: 2_000_000_000)

    @Test("a lease that runs out before the keeper's next pass wakes it; a later one does not")
    func wakesOnlyForEarlierLeases() {
        let alarm = LeaseAlarm()
        alarm.passStarts()
        alarm.passEnds(nextPassAt: Self.t0.addingTimeInterval(60))
        #expect(!alarm.leaseGiven(until: Self.t0.addingTimeInterval(300)))
        #expect(!alarm.leaseGiven(until: Self.t0.addingTimeInterval(60)))
        #expect(alarm.leaseGiven(until: Self.t0.addingTimeInterval(59.9)))
    }

    @Test("while a pass reads the leases, and before the first, every new lease wakes the keeper")
    func wakesDuringAPass() {
        let alarm = LeaseAlarm()
        #expect(alarm.leaseGiven(until: Self.t0.addingTimeInterval(3600)))
        alarm.passStarts()
        alarm.passEnds(nextPassAt: Self.t0.addingTimeInterval(60))
        alarm.passStarts()
        #expect(alarm.leaseGiven(until: Self.t0.addingTimeInterval(3600)), "the pass may not have seen it")
    }
}
