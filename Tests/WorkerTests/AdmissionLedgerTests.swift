import Shared
import Testing

@testable import Worker

@Suite("Admission ledger")
struct AdmissionLedgerTests {
    typealias Request = AdmissionLedger.Request

    @Test("an account never runs more than its limit, and the worker never more than its slots")
    func limits() {
        var ledger = AdmissionLedger(slots: 3, accountLimits: ["a": 2, "b": 2])
        #expect(ledger.enqueue(id: 1, Request(account: "a", priority: .normal)) == [1])
        #expect(ledger.enqueue(id: 2, Request(account: "a", priority: .normal)) == [2])
        #expect(ledger.enqueue(id: 3, Request(account: "a", priority: .normal)) == [])
        #expect(ledger.blocker(for: Request(account: "a", priority: .normal)) == .accountAtLimit(account: "a", limit: 2))
        #expect(ledger.enqueue(id: 4, Request(account: "b", priority: .normal)) == [4])
        #expect(ledger.enqueue(id: 5, Request(account: "b", priority: .normal)) == [])
        #expect(ledger.blocker(for: Request(account: "b", priority: .normal)) == .workerFull(slots: 3))
        // A run on b ends: b's waiter takes the worker slot; a is still at its limit.
        #expect(ledger.finish(Request(account: "b", priority: .normal)) == [5])
        #expect(ledger.finish(Request(account: "a", priority: .normal)) == [3])
        #expect(ledger.running == 3 && ledger.waitingCount == 0)
    }

    @Test("one UI bot per account, while background bots run beside it")
    func uiExclusivity() {
        var ledger = AdmissionLedger(slots: 10, accountLimits: ["a": 4, "b": 4])
        let ui = Request(account: "a", priority: .normal, needsUI: true)
        #expect(ledger.enqueue(id: 1, ui) == [1])
        #expect(ledger.enqueue(id: 2, ui) == [])
        #expect(ledger.blocker(for: ui) == .uiBotRunning(account: "a"))
        #expect(ledger.enqueue(id: 3, Request(account: "a", priority: .normal)) == [3])
        #expect(ledger.enqueue(id: 4, Request(account: "b", priority: .normal, needsUI: true)) == [4])
        #expect(ledger.finish(ui) == [2])
    }

    @Test("two runs with one mark never run on one account at once")
    func marks() {
        var ledger = AdmissionLedger(slots: 10, accountLimits: ["a": 4, "b": 4])
        let sap = Request(account: "a", priority: .normal, marks: ["sap"])
        #expect(ledger.enqueue(id: 1, sap) == [1])
        #expect(ledger.enqueue(id: 2, sap) == [])
        #expect(ledger.blocker(for: sap) == .markBusy(account: "a", mark: "sap"))
        #expect(ledger.enqueue(id: 3, Request(account: "a", priority: .normal, marks: ["excel"])) == [3])
        #expect(ledger.enqueue(id: 4, Request(account: "b", priority: .normal, marks: ["sap"])) == [4])
        #expect(ledger.finish(sap) == [2])
    }

    @Test("a freed slot goes to the highest priority that can start, first come first served within one")
    func priorityOrder() {
        var ledger = AdmissionLedger(slots: 1, accountLimits: ["a": 1])
        #expect(ledger.enqueue(id: 0, Request(account: "a", priority: .normal)) == [0])
        for (id, priority) in [(1, Priority.low), (2, .normal), (3, .high), (4, .normal)] {
            #expect(ledger.enqueue(id: id, Request(account: "a", priority: priority)) == [])
        }
        var order: [Int] = []
        var finished = Request(account: "a", priority: .normal)
        let priorities = [1: Priority.low, 2: .normal, 3: .high, 4: .normal]
        while ledger.waitingCount > 0 {
            let started = ledger.finish(finished)
            order += started
            finished = Request(account: "a", priority: priorities[started[0]]!)
        }
        #expect(order == [3, 2, 4, 1])
    }

    @Test("a waiting job that cannot start does not hold back one of lower priority that can")
    func blockedHigherPriorityDoesNotBlock() {
        var ledger = AdmissionLedger(slots: 10, accountLimits: ["a": 3])
        let ui = Request(account: "a", priority: .high, needsUI: true)
        #expect(ledger.enqueue(id: 1, ui) == [1])
        #expect(ledger.enqueue(id: 2, ui) == [])
        #expect(ledger.enqueue(id: 3, Request(account: "a", priority: .low)) == [3])
    }

    @Test("with a backlog in all three priorities, one start in ten goes to the lower ones in turn")
    func reservedShare() {
        var ledger = AdmissionLedger(slots: 1, accountLimits: ["a": 1], reservedEvery: 10)
        var nextID = 0
        var priorities: [Int: Priority] = [:]
        func add(_ priority: Priority) -> [Int] {
            nextID += 1
            priorities[nextID] = priority
            return ledger.enqueue(id: nextID, Request(account: "a", priority: priority))
        }
        var current = add(.high)[0]
        for priority in Priority.allCases { for _ in 0..<3 { _ = add(priority) } }
        var starts: [Priority: Int] = [:]
        for _ in 0..<100 {
            let finished = priorities[current]!
            current = ledger.finish(Request(account: "a", priority: finished))[0]
            starts[priorities[current]!, default: 0] += 1
            _ = add(priorities[current]!)  // keep the backlog
        }
        #expect(starts == [.high: 90, .normal: 5, .low: 5])
    }

    @Test("a withdrawn waiter is gone; a started one cannot be withdrawn")
    func withdraw() {
        var ledger = AdmissionLedger(slots: 1, accountLimits: ["a": 1])
        #expect(ledger.enqueue(id: 1, Request(account: "a", priority: .normal)) == [1])
        #expect(ledger.enqueue(id: 2, Request(account: "a", priority: .normal)) == [])
        let withdrewWaiter = ledger.withdraw(id: 2)
        let withdrewStarted = ledger.withdraw(id: 1)
        #expect(withdrewWaiter && !withdrewStarted)
        #expect(ledger.finish(Request(account: "a", priority: .normal)) == [])
    }

    @Test("nothing starts on an account while a cleanup is owed or runs there; its jobs start when it ends")
    func cleanupHoldsAccount() {
        var ledger = AdmissionLedger(slots: 10, accountLimits: ["a": 2, "b": 2])
        let run = Request(account: "a", priority: .normal)
        #expect(ledger.enqueue(id: 1, run) == [1])
        // The run ends owing a cleanup, its slot still held: at once nothing more starts on a.
        ledger.oweCleanup(account: "a")
        #expect(ledger.enqueue(id: 2, Request(account: "a", priority: .normal)) == [])
        #expect(ledger.blocker(for: Request(account: "a", priority: .normal)) == .accountHeld(account: "a"))
        #expect(ledger.enqueue(id: 3, Request(account: "b", priority: .normal)) == [3])
        #expect(ledger.enqueueCleanup(id: 10, account: "a") == [10])
        #expect(ledger.accounts["a"]?.cleaning == true)
        #expect(ledger.endCleanup(account: "a") == [2])
        #expect(ledger.finish(run) == [])
    }

    @Test("a cleanup waits until the account runs nothing else: a bot still running beside it is never reset under")
    func cleanupWaitsForOtherRuns() {
        var ledger = AdmissionLedger(slots: 10, accountLimits: ["a": 3])
        let first = Request(account: "a", priority: .normal)
        let second = Request(account: "a", priority: .normal)
        #expect(ledger.enqueue(id: 1, first) == [1])
        #expect(ledger.enqueue(id: 2, second) == [2])
        // The first run is killed and owes a cleanup; the second still runs.
        ledger.oweCleanup(account: "a")
        #expect(ledger.enqueue(id: 3, Request(account: "a", priority: .high)) == [], "a new job started beside the cleanup")
        #expect(ledger.enqueueCleanup(id: 10, account: "a") == [])
        #expect(ledger.accounts["a"]?.cleaning == false)
        // The second run ends (no cleanup owed): the cleanup runs, then the waiting job.
        #expect(ledger.finish(second) == [10])
        #expect(ledger.endCleanup(account: "a") == [3])
        #expect(ledger.finish(first) == [])
    }

    @Test("two runs that owe cleanups: their cleanups run one at a time, each once nothing else runs")
    func cleanupsOneAtATime() {
        var ledger = AdmissionLedger(slots: 10, accountLimits: ["a": 2, "b": 1])
        let first = Request(account: "a", priority: .normal)
        let second = Request(account: "a", priority: .normal)
        #expect(ledger.enqueue(id: 1, first) == [1])
        #expect(ledger.enqueue(id: 2, second) == [2])
        ledger.oweCleanup(account: "a")
        ledger.oweCleanup(account: "a")
        // Only runs that owe cleanups are left: the first cleanup goes; the second waits for it.
        #expect(ledger.enqueueCleanup(id: 10, account: "a") == [10])
        #expect(ledger.enqueueCleanup(id: 11, account: "a") == [])
        // Another account's cleanup does not wait for a's.
        #expect(ledger.enqueue(id: 5, Request(account: "b", priority: .normal)) == [5])
        ledger.oweCleanup(account: "b")
        #expect(ledger.enqueueCleanup(id: 12, account: "b") == [12])
        // The first cleanup ends; its run still holds its slot until it has settled, then the second goes.
        #expect(ledger.endCleanup(account: "a") == [])
        #expect(ledger.finish(first) == [11])
        #expect(ledger.enqueue(id: 3, Request(account: "a", priority: .normal)) == [])
        #expect(ledger.endCleanup(account: "a") == [3])
    }

    @Test("a held account keeps its waiting jobs until it hands them back, then refuses newcomers; released, it starts them again")
    func heldAccount() {
        var ledger = AdmissionLedger(slots: 10, accountLimits: ["a": 2, "b": 2])
        ledger.hold(account: "a")
        #expect(ledger.enqueue(id: 1, Request(account: "a", priority: .normal)) == [])
        #expect(!ledger.refuses(Request(account: "a", priority: .normal)))
        #expect(ledger.enqueue(id: 2, Request(account: "b", priority: .normal)) == [2])
        #expect(ledger.handBack(account: "a") == [1])
        #expect(ledger.waitingCount == 0)
        #expect(ledger.refuses(Request(account: "a", priority: .normal)))
        #expect(!ledger.refuses(Request(account: "b", priority: .normal)))
        #expect(ledger.release(account: "a") == [])
        #expect(ledger.enqueue(id: 3, Request(account: "a", priority: .normal)) == [3])
    }

    @Test("handing back an account that is not held (its hold was lifted meanwhile) does nothing")
    func handBackWithoutHold() {
        var ledger = AdmissionLedger(slots: 1, accountLimits: ["a": 1])
        #expect(ledger.enqueue(id: 1, Request(account: "a", priority: .normal)) == [1])
        #expect(ledger.enqueue(id: 2, Request(account: "a", priority: .normal)) == [])
        ledger.hold(account: "a")
        _ = ledger.release(account: "a")
        #expect(ledger.handBack(account: "a") == [])
        #expect(!ledger.refuses(Request(account: "a", priority: .normal)))
        #expect(ledger.finish(Request(account: "a", priority: .normal)) == [2])
    }
}
