import Testing

@testable import Shared

@Suite("Priority scheduler")
struct PrioritySchedulerTests {
    @Test("with a backlog in all three, high starts first and the reserved share holds over 100 starts")
    func reservedShare() {
        var scheduler = PriorityScheduler(reservedEvery: 10)
        let starts = (0..<100).compactMap { _ in scheduler.next(waiting: [.high, .normal, .low]) }
        #expect(Array(starts.prefix(9)) == Array(repeating: .high, count: 9))
        #expect(starts.filter { $0 == .high }.count == 90)
        #expect(starts.filter { $0 == .normal }.count == 5)
        #expect(starts.filter { $0 == .low }.count == 5)
    }

    @Test("the highest priority waiting goes first; nothing waiting, nothing starts")
    func highestFirst() {
        var scheduler = PriorityScheduler(reservedEvery: 0)
        #expect(scheduler.next(waiting: [.low, .normal]) == .normal)
        #expect(scheduler.next(waiting: [.low]) == .low)
        #expect(scheduler.next(waiting: []) == nil)
    }

    @Test("a reserved start with no lower priority waiting goes to the highest")
    func reservationNeedsLowerWork() {
        var scheduler = PriorityScheduler(reservedEvery: 2)
        let starts = (0..<6).compactMap { _ in scheduler.next(waiting: [.high]) }
        #expect(starts == Array(repeating: .high, count: 6))
    }
}
