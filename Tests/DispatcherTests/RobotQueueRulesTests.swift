import Foundation
import Shared
import Testing

@testable import Dispatcher

/// The robot queue's order and tries, decided without a store.
@Suite("Robot queue rules")
struct RobotQueueRulesTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func entry(job: Int64 = 2, tries: Int = 0, maxTries: Int = 3, reason: String = "") -> RobotQueueRecord {
        RobotQueueRecord(jobID: job, host: nil, account: "robot1", needsUI: true, addedAt: now.addingTimeInterval(-10),
                         attempts: tries, maxAttempts: maxTries, waitSeconds: 30, notBefore: now, due: true,
                         reason: reason)
    }

    struct VerdictAsked: Error {}

    @Test("a launch keeps its place by the time it was submitted, with its policy's tries and wait")
    func entryForLaunch() {
        var job = JobLifecycleTests.job(.pending, account: "robot1")
        job.targetHost = "h2"
        job.robotQueuePolicy = RobotQueuePolicy(waitSeconds: 5, maxAttempts: 4)
        let entry = RobotQueueRules.entry(for: job, tries: 1)
        #expect(entry.addedAt == job.submittedAt && entry.notBefore == job.submittedAt)
        #expect(entry.host == "h2" && entry.account == "robot1" && entry.attempts == 1)
        #expect(entry.maxAttempts == 4 && entry.waitSeconds == 5 && !entry.due && entry.reason.isEmpty)
    }

    @Test("behind an earlier due launch, a try waits until that one's time without using a try or asking")
    func waitsBehindEarlier() throws {
        var entry = Self.entry(tries: 1, reason: "busy")
        var earlier = Self.entry(job: 1)
        earlier.notBefore = Self.now.addingTimeInterval(12)
        let step = try RobotQueueRules.tryToStart(&entry, behind: earlier, verdict: { throw VerdictAsked() },
                                                  at: Self.now)
        let reason = "behind job 1, an earlier launch for account robot1 that is tried first"
        #expect(step == .wait(reason: reason, entering: false))
        #expect(entry.attempts == 1 && entry.due && entry.notBefore == earlier.notBefore && entry.reason == reason)
    }

    @Test("a try that finds room dispatches, naming the tries it took")
    func dispatches() {
        var first = Self.entry()
        #expect(RobotQueueRules.tryToStart(&first, behind: nil, verdict: { .dispatch(host: "h1") }, at: Self.now)
            == .dispatch(host: "h1", note: "dispatched to account robot1 on h1"))
        var third = Self.entry(tries: 2)
        #expect(RobotQueueRules.tryToStart(&third, behind: nil, verdict: { .dispatch(host: "h1") }, at: Self.now)
            == .dispatch(host: "h1", note: "dispatched to account robot1 on h1 after 3 tries in the robot queue"))
    }

    @Test("a try that finds no room waits the policy's time for an event; the first one enters the queue")
    func waits() {
        var entry = Self.entry()
        let step = RobotQueueRules.tryToStart(&entry, behind: nil, verdict: { .wait(reason: "busy") }, at: Self.now)
        #expect(step == .wait(reason: "busy", entering: true))
        #expect(entry.attempts == 1 && !entry.due && entry.notBefore == Self.now.addingTimeInterval(30))
        let again = RobotQueueRules.tryToStart(&entry, behind: nil, verdict: { .wait(reason: "busy") }, at: Self.now)
        #expect(again == .wait(reason: "busy", entering: false))
    }

    @Test("the last try that finds no room gives up with the last reason")
    func givesUp() {
        var entry = Self.entry(tries: 2)
        #expect(RobotQueueRules.tryToStart(&entry, behind: nil, verdict: { .wait(reason: "held") }, at: Self.now)
            == .giveUp(reason: "robot queue: gave up after 3 tries; last: held"))
    }

    @Test("a synchronous launch is refused behind an earlier launch or for the check's reason")
    func refusal() throws {
        #expect(try RobotQueueRules.refusal(behind: Self.entry(job: 1), verdict: { throw VerdictAsked() })
            == "behind job 1, an earlier launch for account robot1 that is tried first")
        #expect(RobotQueueRules.refusal(behind: nil, verdict: { .wait(reason: "busy") }) == "busy")
        #expect(RobotQueueRules.refusal(behind: nil, verdict: { .dispatch(host: "h1") }) == nil)
    }

    @Test("a launch whose message was lost comes back due at once, the try that dispatched it given back, even after its last try")
    func resent() {
        var last = Self.entry(tries: 3)
        (last.due, last.notBefore) = (false, Self.now.addingTimeInterval(30))
        #expect(RobotQueueRules.resend(&last, reason: "message lost", at: Self.now)
            == .wait(reason: "message lost", entering: true))
        #expect(last.due && last.notBefore == Self.now && last.attempts == 2)
    }

    @Test("a launch that comes back after its dispatch waits, or gives up when that was its last try")
    func comesBack() {
        var entry = Self.entry(tries: 1)
        #expect(RobotQueueRules.comeBack(&entry, reason: "host lost", due: true, at: Self.now)
            == .wait(reason: "host lost", entering: true))
        #expect(entry.due && entry.notBefore == Self.now.addingTimeInterval(30))
        var last = Self.entry(tries: 3)
        #expect(RobotQueueRules.comeBack(&last, reason: "host lost", due: true, at: Self.now)
            == .giveUp(reason: "robot queue: gave up after 3 tries; last: host lost"))
    }
}
