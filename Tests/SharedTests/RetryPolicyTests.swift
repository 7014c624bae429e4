import Testing

@testable import Shared

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("a fixed policy waits the same time before every retry")
    func fixedWait() {
        let policy = RetryPolicy.fixed(maxAttempts: 4, waitMilliseconds: 2_000)
        #expect((1...3).map { policy.waitMilliseconds(after: $0, random: 0.9) } == [2_000, 2_000, 2_000])
    }

    @Test("exponential waits double from the base and stop at the maximum")
    func exponentialWithoutJitter() {
        let policy = RetryPolicy.exponential(maxAttempts: 10, baseMilliseconds: 500, maxMilliseconds: 3_000, jitter: 0)
        #expect((1...5).map { policy.waitMilliseconds(after: $0, random: 0.5) } == [500, 1_000, 2_000, 3_000, 3_000])
    }

    @Test("jitter spreads a wait by at most its fraction either way", arguments: [0.0, 0.25, 0.5, 0.999])
    func jitterBounds(random: Double) {
        let policy = RetryPolicy.exponential(maxAttempts: 10, baseMilliseconds: 1_000, maxMilliseconds: 60_000, jitter: 0.2)
        let wait = policy.waitMilliseconds(after: 3, random: random)
        #expect((3_200...4_800).contains(wait))
    }

    @Test("attempts are allowed until the maximum is reached")
    func attemptsAllowed() {
        let policy = RetryPolicy.fixed(maxAttempts: 3, waitMilliseconds: 0)
        #expect(policy.allowsAnotherAttempt(after: 1))
        #expect(policy.allowsAnotherAttempt(after: 2))
        #expect(!policy.allowsAnotherAttempt(after: 3))
    }

    @Test("an unusable policy says what is wrong")
    func validation() {
        #expect(RetryPolicy.fixed(maxAttempts: 0, waitMilliseconds: 10).problems.count == 1)
        #expect(RetryPolicy.fixed(maxAttempts: 3, waitMilliseconds: -1).problems.count == 1)
        #expect(RetryPolicy.exponential(maxAttempts: 3, baseMilliseconds: 100, maxMilliseconds: 50).problems.count == 1)
        #expect(RetryPolicy.exponential(maxAttempts: 3, baseMilliseconds: 100, maxMilliseconds: 500, jitter: 2).problems.count == 1)
        #expect(RetryPolicy().problems.isEmpty)
    }

    @Test("a policy survives a JSON round trip")
    func codable() throws {
        let policy = RetryPolicy.exponential(maxAttempts: 5, baseMilliseconds: 100, maxMilliseconds: 5_000, jitter: 0.1)
        let decoded = try JSONCodec.decode(RetryPolicy.self, from: try JSONCodec.encode(policy))
        #expect(decoded == policy)
    }
}

@Suite("Retry delay buckets")
struct RetryDelayTests {
    @Test("a wait is rounded up to two significant digits, never down",
          arguments: [(0, 0), (50, 50), (100, 100), (101, 110), (1_234, 1_300), (2_000, 2_000), (99_001, 100_000)])
    func rounding(wait: Int, bucket: Int) {
        #expect(RetryDelay.bucket(forMilliseconds: wait) == bucket)
    }

    @Test("a bucket is at most about 10 % longer than the wait")
    func boundedOvershoot() {
        for wait in stride(from: 101, to: 1_000_000, by: 997) {
            let bucket = RetryDelay.bucket(forMilliseconds: wait)
            #expect(bucket >= wait)
            #expect(Double(bucket) <= Double(wait) * 1.1 + 1)
        }
    }
}
