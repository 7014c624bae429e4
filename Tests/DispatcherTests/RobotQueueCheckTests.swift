import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Robot queue check")
struct RobotQueueCheckTests {
    typealias Load = RobotQueueCheck.AccountLoad

    static func worker(_ host: String, _ state: WorkerStatus.State = .active,
                       accounts: [AccountStatus] = [AccountStatus(name: "robot1", limit: 2)]) -> WorkerStatus {
        WorkerStatus(workerID: "w-\(host)", group: "g1", host: host, accounts: accounts, slots: 10, running: 0,
                     state: state, firstSeen: Date(), lastSeen: Date())
    }

    func verdict(host: String? = nil, needsUI: Bool = false, workers: [WorkerStatus], credentials: Set<String> = [],
                 loads: [String: Load] = [:]) -> RobotQueueCheck.Verdict {
        RobotQueueCheck(group: "g1", host: host, account: "robot1", needsUI: needsUI)
            .verdict(workers: workers, hasCredential: credentials.contains, load: { loads[$0] ?? Load() })
    }

    @Test("a launch starts on the first host that serves the account and has room")
    func dispatch() {
        let workers = [Self.worker("h2"), Self.worker("h1")]
        #expect(verdict(workers: workers) == .dispatch(host: "h1"))
        #expect(verdict(workers: workers, loads: ["h1": Load(jobs: 2)]) == .dispatch(host: "h2"))
        #expect(verdict(host: "h2", workers: workers) == .dispatch(host: "h2"))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var host: String?
        var needsUI = false
        var workers: [WorkerStatus]
        var credentials: Set<String> = []
        var loads: [String: Load] = [:]
        var reason: String
        var testDescription: String { reason }
    }

    static let cases: [Case] = [
        Case(workers: [worker("h1", .lost)], reason: "no host of group g1 is active"),
        Case(host: "h2", workers: [worker("h1")], reason: "host h2 is not active"),
        Case(workers: [worker("h1", accounts: [])], reason: "account robot1 is not served on any active host of group g1"),
        Case(host: "h1", workers: [worker("h1", accounts: [AccountStatus(name: "robot1", limit: 2, served: false)])],
             reason: "account robot1 on host h1 is busy: its worker is taking it over"),
        Case(host: "h1", needsUI: true, workers: [worker("h1")], reason: "missing credentials for account robot1 on h1"),
        Case(host: "h1", needsUI: true, workers: [worker("h1")], credentials: ["h1"], loads: ["h1": Load(jobs: 1, uiJobs: 1)],
             reason: "a UI bot is already running on account robot1 on h1"),
        Case(host: "h1", workers: [worker("h1")], loads: ["h1": Load(jobs: 2)],
             reason: "account robot1 on h1 is at its limit (2 of 2 running)"),
    ]

    @Test("each reason a launch cannot start, in words", arguments: cases)
    func reasons(_ check: Case) {
        #expect(verdict(host: check.host, needsUI: check.needsUI, workers: check.workers, credentials: check.credentials,
                        loads: check.loads) == .wait(reason: check.reason))
    }

    @Test("a UI launch with credentials starts beside background bots while the account has room")
    func uiBesideBackground() {
        #expect(verdict(needsUI: true, workers: [Self.worker("h1")], credentials: ["h1"], loads: ["h1": Load(jobs: 1)])
            == .dispatch(host: "h1"))
    }

    @Test("a launch waits while its account is held after a failed cleanup, and says why")
    func heldAccount() {
        let held = AccountStatus(name: "robot1", limit: 2, hold: "cleanup failed: exit code 3 (after job 4, attempt 1)")
        #expect(verdict(workers: [Self.worker("h1", accounts: [held])]) == .wait(
            reason: "account robot1 on h1 is held: cleanup failed: exit code 3 (after job 4, attempt 1); an operator must clear it"))
        #expect(verdict(workers: [Self.worker("h1", accounts: [held]), Self.worker("h2")]) == .dispatch(host: "h2"))
    }
}
