import Shared
import Testing

@testable import Dispatcher

@Suite("Attempt verdict")
struct AttemptVerdictTests {
    let policy = RetryPolicy.fixed(maxAttempts: 3, waitMilliseconds: 1_234)

    @Test("success ends the job")
    func success() {
        #expect(AttemptVerdict.judge(JobOutcome(result: .succeeded, reason: "ok"), attempt: 1, policy: policy, random: 0)
            == .succeeded)
    }

    @Test("a system failure with attempts left is retried after the rounded-up wait",
          arguments: [JobOutcome.Result.failed, .timedOut, .failedToStart])
    func retried(result: JobOutcome.Result) {
        let verdict = AttemptVerdict.judge(JobOutcome(result: result, reason: "boom"), attempt: 2, policy: policy, random: 0)
        #expect(verdict == .retry(waitMilliseconds: 1_300, reason: "attempt 2 failed: boom"))
    }

    @Test("the last attempt's failure makes the job dead")
    func dead() {
        let verdict = AttemptVerdict.judge(JobOutcome(result: .failed, reason: "boom"), attempt: 3, policy: policy, random: 0)
        #expect(verdict == .dead(reason: "attempts exhausted (3 of 3); last: boom"))
    }

    @Test("a business exception fails the job at once with its reason, even with attempts left")
    func businessException() {
        let outcome = JobOutcome(result: .businessException, reason: "invoice 17 is already paid")
        #expect(AttemptVerdict.judge(outcome, attempt: 1, policy: policy, random: 0)
            == .businessException(reason: "business exception: invoice 17 is already paid"))
    }
}
