import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Admission modes")
struct AdmissionDecisionTests {
    typealias Capacity = AdmissionDecision.Capacity
    typealias Load = AdmissionDecision.Load

    func decision(_ mode: AdmissionMode, needsUI: Bool = false, maxQueued: Int? = nil) -> AdmissionDecision {
        AdmissionDecision(mode: mode, needsUI: needsUI, group: "g1", maxQueued: maxQueued)
    }

    @Test("queue takes every launch in")
    func queue() {
        #expect(decision(.queue).rejection(capacity: Capacity(), load: Load(waiting: 1_000)) == nil)
    }

    @Test("bounded takes a launch in while a slot is free, even with maxQueued 0")
    func boundedWithFreeSlot() {
        let idle = Capacity(workers: 1, slots: 2, uiSlots: 1)
        #expect(decision(.bounded, maxQueued: 0).rejection(capacity: idle, load: Load()) == nil)
        #expect(decision(.bounded, maxQueued: 0).rejection(capacity: idle, load: Load(waiting: 1, starting: 1)) == nil)
    }

    @Test("bounded with no slot free waits while fewer than maxQueued jobs wait")
    func boundedWaits() {
        let full = Capacity(workers: 1, slots: 1, uiSlots: 1)
        #expect(decision(.bounded, maxQueued: 2).rejection(capacity: full, load: Load(waiting: 1, running: 1)) == nil)
        #expect(decision(.bounded, maxQueued: 2).rejection(capacity: Capacity(), load: Load(waiting: 1)) == nil)
    }

    @Test("bounded refuses when no slot is free and the group already has its maxQueued jobs waiting, saying both")
    func boundedRefuses() {
        let full = Capacity(workers: 1, slots: 1, uiSlots: 1)
        #expect(decision(.bounded, maxQueued: 2).rejection(capacity: full, load: Load(waiting: 2, running: 1))
            == "No slots available: all 1 slots of group g1 are taken, and the group has its maximum of 2 jobs waiting")
        #expect(decision(.bounded, maxQueued: 0).rejection(capacity: Capacity(), load: Load())
            == "No slots available: no worker of group g1 is active, and the group has its maximum of 0 jobs waiting")
        let uiBusy = Capacity(workers: 1, slots: 4, uiSlots: 1)
        #expect(decision(.bounded, needsUI: true, maxQueued: 0)
            .rejection(capacity: uiBusy, load: Load(running: 1, uiStartingOrRunning: 1))
            == "No slots available: every account of group g1 runs a UI bot already, and the group has its maximum "
            + "of 0 jobs waiting")
    }

    @Test("bounded without a maxQueued always waits")
    func boundedUnbounded() {
        #expect(decision(.bounded).rejection(capacity: Capacity(), load: Load(waiting: 1_000)) == nil)
    }

    @Test("only sync, and bounded with a maxQueued, can refuse: the others need no look at the group's load")
    func whoCanRefuse() {
        #expect(!decision(.queue).canRefuse)
        #expect(!decision(.bounded).canRefuse)
        #expect(decision(.bounded, maxQueued: 10).canRefuse)
        #expect(decision(.sync).canRefuse)
    }

    @Test("sync runs now or not at all: taken-in and running jobs against the slots workers report")
    func sync() {
        let capacity = Capacity(workers: 1, slots: 2, uiSlots: 1)
        #expect(decision(.sync).rejection(capacity: capacity, load: Load(starting: 1)) == nil)
        #expect(decision(.sync).rejection(capacity: capacity, load: Load(starting: 1, running: 1))
            == "No slots available: all 2 slots of group g1 are taken")
        #expect(decision(.sync).rejection(capacity: Capacity(), load: Load())
            == "No slots available: no worker of group g1 is active")
        // Jobs waiting for a retry hold no slot now.
        #expect(decision(.sync).rejection(capacity: capacity, load: Load(waiting: 5, running: 1)) == nil)
    }

    @Test("a sync UI launch also needs an account without a UI bot")
    func syncUI() {
        let capacity = Capacity(workers: 1, slots: 4, uiSlots: 1)
        let busy = Load(running: 1, uiStartingOrRunning: 1)
        #expect(decision(.sync, needsUI: true).rejection(capacity: capacity, load: busy)
            == "No slots available: every account of group g1 runs a UI bot already")
        #expect(decision(.sync).rejection(capacity: capacity, load: busy) == nil)
    }

    @Test("capacity counts active workers only, and each by its served accounts")
    func capacity() {
        let now = Date()
        func worker(_ id: String, _ state: WorkerStatus.State, slots: Int, accounts: [AccountStatus]) -> WorkerStatus {
            WorkerStatus(workerID: id, group: "g1", host: id, accounts: accounts, slots: slots, running: 0,
                         state: state, firstSeen: now, lastSeen: now)
        }
        let statuses = [
            worker("a", .active, slots: 3, accounts: [AccountStatus(name: "r1", limit: 2), AccountStatus(name: "r2", limit: 2)]),
            worker("b", .active, slots: 5, accounts: [AccountStatus(name: "r1", limit: 2, served: false)]),
            worker("c", .lost, slots: 5, accounts: [AccountStatus(name: "r1", limit: 2)]),
            worker("d", .stopping, slots: 5, accounts: [AccountStatus(name: "r1", limit: 2)]),
        ]
        #expect(Capacity(group: "g1", statuses: statuses) == Capacity(workers: 2, slots: 3, uiSlots: 2))
        #expect(Capacity(group: "g2", statuses: statuses) == Capacity())
    }

    @Test("capacity counts each account of a host once, from its newest heartbeat: a worker killed a moment ago adds nothing")
    func capacityAfterTakeover() {
        let now = Date()
        func worker(_ id: String, seen: Date, served: Bool) -> WorkerStatus {
            WorkerStatus(workerID: id, group: "g1", host: "h1",
                         accounts: [AccountStatus(name: "robot1", limit: 2, served: served)], slots: 4, running: 0,
                         state: .active, firstSeen: now, lastSeen: seen)
        }
        let statuses = [worker("killed", seen: now.addingTimeInterval(-4), served: true),
                        worker("taker", seen: now, served: true)]
        #expect(Capacity(group: "g1", statuses: statuses) == Capacity(workers: 2, slots: 2, uiSlots: 1))
    }
}
