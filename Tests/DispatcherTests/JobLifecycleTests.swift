import Foundation
import Shared
import Testing

@testable import Dispatcher

/// The job lifecycle decided without a store: what each report does to a job as stored.
@Suite("Job lifecycle")
struct JobLifecycleTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func job(_ state: JobState, attempts: Int = 0, dispatchedAttempt: Int = 1, runID: String? = nil,
                    maxAttempts: Int = 3, account: String? = nil) -> JobRecord {
        let policy = RetryPolicy(maxAttempts: maxAttempts, backoff: .fixed(milliseconds: 0))
        return JobRecord(
            id: 7, bot: "invoice", botSnapshot: BotDefinition(name: "invoice", argv: ["/bin/true"], retry: policy),
            group: "g1", priority: .normal, environment: "production", inputs: [:], account: account, state: state,
            attempts: attempts, dispatchedAttempt: dispatchedAttempt, runID: runID, retryPolicy: policy,
            timeoutSeconds: 60, launchMethod: .api, initiator: "test", outputs: [:],
            submittedAt: now.addingTimeInterval(-60), updatedAt: now.addingTimeInterval(-60))
    }

    static func event(_ kind: JobEvent.Kind, attempt: Int = 1, envelopeAttempt: Int? = nil, runID: String = "run-1",
                      account: String? = nil, outcome: JobOutcome? = nil) -> JobEvent {
        JobEvent(kind: kind, jobID: 7, attempt: attempt, envelopeAttempt: envelopeAttempt, runID: runID,
                 workerID: "w1", host: "h1", account: account, at: now, outcome: outcome)
    }

    static func finished(_ result: JobOutcome.Result, account: String? = nil) -> JobEvent {
        event(.finished, account: account,
              outcome: JobOutcome(result: result, exitCode: result == .succeeded ? 0 : 1, reason: "exit",
                                  outputs: ["total": "12"], log: "the log"))
    }

    func decide(_ event: JobEvent, _ job: JobRecord, random: Double = 0) -> JobLifecycle.Decision {
        JobLifecycle.apply(event, to: job, random: random, at: Self.now)
    }

    // MARK: started

    @Test("the first start of a queued job is attempt 1, run by the reporting worker")
    func firstStart() {
        let decision = decide(Self.event(.started, account: "robot1"), Self.job(.queued))
        #expect(decision.ignored == nil)
        #expect(decision.job.state == .running)
        #expect(decision.job.attempts == 1)
        #expect(decision.job.runID == "run-1")
        #expect(decision.job.workerID == "w1" && decision.job.host == "h1" && decision.job.ranAs == "robot1")
        #expect(decision.history == [.init(from: .queued, to: .running, attempt: 1,
                                           reason: "attempt 1 started on h1 as robot1")])
        #expect(decision.effects.isEmpty)
    }

    @Test("a start that comes before the relay recorded its message's confirm counts the queueing too")
    func startBeforeConfirmRecorded() {
        let decision = decide(Self.event(.started), Self.job(.pending))
        #expect(decision.ignored == nil)
        #expect(decision.job.state == .running && decision.job.attempts == 1)
        #expect(decision.history == [
            .init(from: .pending, to: .queued, attempt: 0,
                  reason: "delivered to w1 before the broker's confirm was recorded"),
            .init(from: .queued, to: .running, attempt: 1, reason: "attempt 1 started on h1"),
        ])
    }

    @Test("an outcome that comes before its start and before the confirm was recorded counts both")
    func outcomeBeforeConfirmRecorded() {
        let decision = decide(Self.finishedAfterTwoSeconds(.succeeded), Self.job(.pending))
        #expect(decision.job.state == .succeeded)
        #expect(decision.history.map(\.to) == [.queued, .running, .succeeded])
    }

    @Test("a start of the current attempt's message, redelivered after its worker was lost, is a rerun")
    func rerunAfterLostWorker() {
        let job = Self.job(.running, attempts: 1, runID: "run-0")
        let decision = decide(Self.event(.started, attempt: 2, envelopeAttempt: 1, runID: "run-2"), job)
        #expect(decision.job.attempts == 2 && decision.job.runID == "run-2")
        #expect(decision.history.last?.reason == "attempt 2 started on h1 (rerun: the previous worker was lost)")
    }

    @Test("a second copy of a running attempt's message is stopped and does not count")
    func secondCopyStopped() {
        let job = Self.job(.running, attempts: 1, runID: "run-0")
        let decision = decide(Self.event(.started, runID: "run-copy"), job)
        #expect(decision.ignored == "second copy of the message of attempt 1")
        #expect(decision.job.state == .running && decision.job.runID == "run-0" && decision.job.attempts == 1)
        #expect(decision.effects == [.tell(ControlMessage(command: .stopRun, jobID: 7, runID: "run-copy"),
                                           workerID: "w1")])
        #expect(decision.history.map(\.to) == [.running])
    }

    @Test("a copy of a superseded attempt's message is stopped")
    func supersededCopyStopped() {
        let job = Self.job(.retrying, attempts: 1, dispatchedAttempt: 2)
        let decision = decide(Self.event(.started, attempt: 1), job)
        #expect(decision.ignored == "superseded message of attempt 1; attempt 2 is under way")
        #expect(decision.effects == [.tell(ControlMessage(command: .stopRun, jobID: 7, runID: "run-1"),
                                           workerID: "w1")])
    }

    @Test("a job cancelled while its message was on the way is stopped where it started")
    func cancelledBeforeStart() {
        let decision = decide(Self.event(.started), Self.job(.cancelled))
        #expect(decision.ignored == "job was cancelled; told worker w1 to stop it")
        #expect(decision.effects == [.tell(ControlMessage(command: .cancel, jobID: 7), workerID: "w1")])
        #expect(!decision.changesJob)
    }

    @Test("a start of an ended job's old message is stopped; the job stays as it ended")
    func endedJobCopyStopped() {
        let decision = decide(Self.event(.started), Self.job(.succeeded, attempts: 1))
        #expect(decision.ignored == "job is succeeded; told worker w1 to stop the copy")
        #expect(decision.job.state == .succeeded)
        #expect(decision.history == [.init(from: .succeeded, to: .succeeded, attempt: 1, reason:
            "a copy of attempt 1's message of this succeeded job started on w1; told it to stop")])
    }

    @Test("a redelivery of the last attempt after a lost worker parks the job: no attempt is left")
    func lastAttemptRedeliveredParks() {
        let job = Self.job(.running, attempts: 3, dispatchedAttempt: 3, runID: "run-0")
        let decision = decide(Self.event(.started, attempt: 4, envelopeAttempt: 3, runID: "run-4"), job)
        let reason = "attempts exhausted (3 of 3); last: worker lost during attempt 3"
        #expect(decision.job.state == .dead && decision.job.failureKind == .system)
        #expect(decision.job.reason == reason && decision.job.finishedAt == Self.now)
        #expect(decision.effects == [.tell(ControlMessage(command: .cancel, jobID: 7), workerID: "w1"),
                                     .parkMessage(reason: reason)])
        #expect(decision.publishesJob)
    }

    // MARK: finished

    @Test("a succeeded attempt ends the job with its exit code, outputs and log")
    func succeeded() {
        let decision = decide(Self.finished(.succeeded), Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(decision.job.state == .succeeded && decision.job.exitCode == 0)
        #expect(decision.job.outputs == ["total": "12"] && decision.job.finishedAt == Self.now)
        #expect(decision.effects == [.keepLog(attempt: 1, log: "the log")])
        #expect(!decision.publishesJob)
    }

    @Test("a failed attempt with attempts left is retried through the retry exchange")
    func failedRetried() {
        let decision = decide(Self.finished(.failed), Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(decision.job.state == .retrying && decision.job.dispatchedAttempt == 2)
        #expect(decision.effects == [.keepLog(attempt: 1, log: "the log"), .publishRetry(waitMilliseconds: 0)])
        #expect(decision.publishesJob)
    }

    @Test("a failed last attempt parks the job with its message")
    func failedLastAttemptParked() {
        let decision = decide(Self.finished(.timedOut), Self.job(.running, attempts: 3, runID: "run-1"))
        #expect(decision.job.state == .dead && decision.job.failureKind == .system)
        #expect(decision.effects.last == .parkMessage(reason: "attempts exhausted (3 of 3); last: exit"))
    }

    @Test("a business exception fails the job without a retry")
    func businessException() {
        let decision = decide(Self.finished(.businessException), Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(decision.job.state == .failed && decision.job.failureKind == .business)
        #expect(!decision.publishesJob)
    }

    @Test("the outcome of a run that no longer counts changes nothing")
    func staleOutcomeIgnored() {
        let decision = decide(Self.finished(.succeeded), Self.job(.running, attempts: 2, runID: "run-2"))
        #expect(decision.ignored == "outcome of a run that no longer counts")
        #expect(!decision.changesJob && decision.effects.isEmpty)
    }

    @Test("a cancelled job's bot confirmed stopped gets a line and its log")
    func cancelledConfirmed() {
        let decision = decide(Self.finished(.cancelled), Self.job(.cancelled, attempts: 1, runID: "run-1"))
        #expect(decision.history == [.init(from: .cancelled, to: .cancelled, attempt: 1,
                                           reason: "bot stopped on h1: exit")])
        #expect(decision.effects == [.keepLog(attempt: 1, log: "the log")])
    }

    @Test("a targeted run whose runtime failed to start goes back to the robot queue without using an attempt")
    func failedToStartReturnsToRobotQueue() {
        let job = Self.job(.running, attempts: 1, runID: "run-1", account: "robot1")
        let decision = decide(Self.finished(.failedToStart, account: "robot1"), job)
        #expect(decision.job.attempts == 0 && decision.job.runID == nil)
        #expect(decision.effects == [.keepLog(attempt: 1, log: "the log"),
                                     .returnToRobotQueue(reason: "runtime failed to start on h1: exit"),
                                     .freeAccount("robot1", host: "h1")])
    }

    @Test("a finished run frees its account, unless a targeted launch will retry on it")
    func finishedRunFreesAccount() {
        let untargeted = decide(Self.finished(.failed, account: "robot1"),
                                Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(untargeted.effects.last == .freeAccount("robot1", host: "h1"))
        let targeted = decide(Self.finished(.failed, account: "robot1"),
                              Self.job(.running, attempts: 1, runID: "run-1", account: "robot1"))
        #expect(targeted.job.state == .retrying)
        #expect(!targeted.effects.contains(.freeAccount("robot1", host: "h1")))
    }

    // MARK: reports out of order

    /// A run's outcome, two seconds after its start.
    static func finishedAfterTwoSeconds(_ result: JobOutcome.Result) -> JobEvent {
        event(.finished, outcome: JobOutcome(result: result, exitCode: result == .succeeded ? 0 : 1, reason: "exit",
                                             durationMilliseconds: 2_000))
    }

    @Test("the outcome of the run a queued job waits for, come before its start, counts the start too")
    func outcomeBeforeStart() {
        let decision = decide(Self.finishedAfterTwoSeconds(.succeeded), Self.job(.queued))
        #expect(decision.ignored == nil)
        #expect(decision.job.state == .succeeded && decision.job.attempts == 1 && decision.job.runID == "run-1")
        #expect(decision.job.startedAt == Self.now.addingTimeInterval(-2) && decision.job.finishedAt == Self.now)
        #expect(decision.history == [
            .init(from: .queued, to: .running, attempt: 1,
                  reason: "attempt 1 started on h1 (counted from its outcome: the start's report had not come)"),
            .init(from: .running, to: .succeeded, attempt: 1, reason: "attempt 1 succeeded: exit"),
        ])
    }

    @Test("an outcome that carries its run's start counts the start at that time: the start's report was held")
    func outcomeCarriesStart() {
        var finished = Self.finishedAfterTwoSeconds(.succeeded)
        finished.startedAt = Self.now.addingTimeInterval(-2.25)
        let decision = decide(finished, Self.job(.queued))
        #expect(decision.job.state == .succeeded && decision.job.startedAt == finished.startedAt)
        #expect(decision.history.first == .init(from: .queued, to: .running, attempt: 1,
                                                reason: "attempt 1 started on h1 (reported with its outcome)"))
        // The same outcome once the start was counted changes no date.
        let running = decide(Self.event(.started), Self.job(.queued)).job
        var counted = finished
        counted.startedAt = Self.now.addingTimeInterval(-9)
        #expect(decide(counted, running).job.startedAt == running.startedAt)
    }

    @Test("a finished report without an outcome before any start leaves the queued job waiting for its run")
    func outcomelessFinishBeforeStart() {
        let decision = decide(Self.event(.finished), Self.job(.queued))
        #expect(decision.ignored == "finished event without an outcome")
        #expect(decision.job.state == .queued && decision.job.runID == nil && !decision.changesJob)
    }

    @Test("a start reported after its run's outcome changes no state and starts nothing: a note and its date")
    func startAfterOutcome() {
        let ended = decide(Self.finishedAfterTwoSeconds(.succeeded), Self.job(.queued)).job
        let late = Self.now.addingTimeInterval(-2.5)
        let event = JobEvent(kind: .started, jobID: 7, attempt: 1, runID: "run-1", workerID: "w1", host: "h1",
                             account: nil, at: late)
        let decision = decide(event, ended)
        #expect(decision.job.state == .succeeded && decision.job.attempts == 1 && decision.job.startedAt == late)
        #expect(decision.history == [.init(from: .succeeded, to: .succeeded, attempt: 1,
                                           reason: "attempt 1's start reported after its outcome")])
        #expect(decision.effects.isEmpty)
    }

    @Test("a second report of a running run's start changes nothing and stops nothing")
    func repeatedStartOfRunningRun() {
        let decision = decide(Self.event(.started), Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(decision.ignored == "the start of run run-1 is already counted")
        #expect(!decision.changesJob && decision.effects.isEmpty)
    }

    @Test("a failed run's outcome before its start: the job retries once, and the late start does not run it again")
    func failedOutcomeBeforeStart() {
        let retrying = decide(Self.finishedAfterTwoSeconds(.failed), Self.job(.queued)).job
        #expect(retrying.state == .retrying && retrying.attempts == 1 && retrying.dispatchedAttempt == 2)
        let decision = decide(Self.event(.started), retrying)
        #expect(decision.job.state == .retrying && decision.job.attempts == 1 && decision.effects.isEmpty)
    }

    @Test("an outcome of a superseded attempt's run whose start never came changes nothing")
    func supersededOutcomeWithoutStart() {
        let job = Self.job(.retrying, attempts: 1, dispatchedAttempt: 2, runID: "run-1")
        let decision = decide(Self.event(.finished, runID: "run-0", outcome: JobOutcome(result: .succeeded,
                                                                                        reason: "exit")), job)
        #expect(decision.ignored == "outcome of a run that no longer counts")
        #expect(!decision.changesJob && decision.effects.isEmpty)
    }

    // MARK: returned, cleaned up, parked

    @Test("a run handed back at shutdown queues the job again and gives back its attempt")
    func handedBack() {
        let decision = decide(Self.event(.returned), Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(decision.job.state == .queued && decision.job.attempts == 0 && decision.job.runID == nil)
        #expect(decide(Self.event(.returned, runID: "old"), Self.job(.running, attempts: 1, runID: "run-1")).ignored
            == "return of a run that no longer counts")
    }

    static let lost = "its message went with the queue deleted while w1 held it"

    @Test("a run handed back after its queue was deleted gives back its attempt, and the job is sent again as a new message that supersedes the lost one")
    func lostMessageSentAgain() {
        let decision = decide(Self.event(.messageLost), Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(decision.job.state == .queued && decision.job.attempts == 0 && decision.job.runID == nil)
        #expect(decision.job.dispatchedAttempt == 2)
        #expect(decision.history == [.init(from: .running, to: .queued, attempt: 0,
                                           reason: "\(Self.lost); sent again")])
        #expect(decision.effects == [.publishRetry(waitMilliseconds: 0)])
    }

    @Test("a launch whose message was lost goes back to the robot queue to be sent at once, and frees its account")
    func lostLaunchResent() {
        let job = Self.job(.running, attempts: 1, runID: "run-1", account: "robot1")
        let decision = decide(Self.event(.messageLost, account: "robot1"), job)
        #expect(decision.job.attempts == 0 && decision.job.runID == nil)
        // The robot queue writes the job's row and its line.
        #expect(decision.history.isEmpty)
        #expect(decision.effects == [.resendLaunch(reason: Self.lost), .freeAccount("robot1", host: "h1")])
    }

    @Test("a lost message of a job that had not started is sent again without touching its attempts")
    func lostBeforeItStarted() {
        let decision = decide(Self.event(.messageLost, attempt: 2, envelopeAttempt: 2, runID: "never-ran"),
                              Self.job(.queued, attempts: 1, dispatchedAttempt: 2))
        #expect(decision.ignored == nil)
        #expect(decision.job.state == .queued && decision.job.attempts == 1 && decision.job.dispatchedAttempt == 3)
        #expect(decision.effects == [.publishRetry(waitMilliseconds: 0)])
        // A retry's message, delivered after its wait, is the job's latest as well.
        let retry = decide(Self.event(.messageLost, attempt: 2, envelopeAttempt: 2, runID: "never-ran"),
                           Self.job(.retrying, attempts: 1, dispatchedAttempt: 2))
        #expect(retry.job.state == .queued && retry.effects == [.publishRetry(waitMilliseconds: 0)])
    }

    @Test("a lost message that no longer counts changes nothing: another run is current, or a newer message is out")
    func staleLostMessage() {
        let otherRun = decide(Self.event(.messageLost, runID: "old"), Self.job(.running, attempts: 1, runID: "run-1"))
        #expect(otherRun.ignored == "lost message of a run that no longer counts" && otherRun.effects.isEmpty)
        let superseded = decide(Self.event(.messageLost, envelopeAttempt: 1, runID: "never-ran"),
                                Self.job(.queued, attempts: 1, dispatchedAttempt: 2))
        #expect(superseded.ignored == "lost message of a run that no longer counts")
        let ended = decide(Self.event(.messageLost), Self.job(.succeeded, attempts: 1, runID: "run-1"))
        #expect(ended.ignored != nil && ended.effects.isEmpty)
    }

    @Test("a failed cleanup is noted in the history and keeps its log; the state does not change")
    func cleanupNoted() {
        let event = Self.event(.cleanedUp, account: "robot1",
                               outcome: JobOutcome(result: .failed, reason: "exit 2", log: "reset"))
        let decision = decide(event, Self.job(.failed, attempts: 1))
        #expect(decision.job.state == .failed)
        #expect(decision.effects == [.keepCleanupLog(attempt: 1, log: "reset")])
        #expect(decision.history.first?.reason == "cleanup after attempt 1 failed on account robot1 on h1: exit 2; "
            + "the account takes no jobs until an operator clears it")
    }

    @Test("a message parked by the broker makes the job dead and frees its account, once")
    func parkedByBroker() {
        var job = Self.job(.running, attempts: 1, runID: "run-1", account: "robot1")
        job.host = "h1"
        job.ranAs = "robot1"
        let decision = JobLifecycle.parked(job, attempt: 1, reason: "delivery limit", at: Self.now)
        #expect(decision.job.state == .dead && decision.job.reason == "delivery limit")
        #expect(decision.effects == [.freeAccount("robot1", host: "h1")])
        #expect(!decision.publishesJob)
        #expect(JobLifecycle.parked(decision.job, attempt: 1, reason: "again", at: Self.now).ignored
            == "job is already dead")
        #expect(JobLifecycle.parked(Self.job(.retrying, dispatchedAttempt: 2), attempt: 1, reason: "old", at: Self.now)
            .ignored == "parked copy of superseded attempt 1")
    }
}
