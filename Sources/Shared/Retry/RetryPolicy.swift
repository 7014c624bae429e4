/// How often a job is attempted and how long it waits between attempts.
public struct RetryPolicy: Codable, Sendable, Equatable {
    /// How the wait before the next attempt grows.
    public enum Backoff: Codable, Sendable, Equatable {
        /// The same wait before every retry.
        case fixed(milliseconds: Int)
        /// `base × 2^(retry−1)`, capped at `max`, then spread by up to ±`jitter` (a fraction).
        case exponential(baseMilliseconds: Int, maxMilliseconds: Int, jitter: Double)
    }

    /// Attempts in all, the first one included. 1 means no retry.
    public var maxAttempts: Int
    public var backoff: Backoff

    public init(maxAttempts: Int = 3, backoff: Backoff = .fixed(milliseconds: 5_000)) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
    }

    /// A policy that waits the same time before every retry.
    public static func fixed(maxAttempts: Int, waitMilliseconds: Int) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, backoff: .fixed(milliseconds: waitMilliseconds))
    }

    /// A policy whose waits double from `base` up to `max`, spread by `jitter`.
    public static func exponential(
        maxAttempts: Int,
        baseMilliseconds: Int,
        maxMilliseconds: Int,
        jitter: Double = 0.2
    ) -> RetryPolicy {
        RetryPolicy(
            maxAttempts: maxAttempts,
            backoff: .exponential(baseMilliseconds: baseMilliseconds, maxMilliseconds: maxMilliseconds, jitter: jitter)
        )
    }

    public static let maximumAttempts = 100
    public static let maximumWaitMilliseconds = 7 * 24 * 3600 * 1000

    /// Problems that make this policy unusable, in words; empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !(1...Self.maximumAttempts).contains(maxAttempts) {
            problems.append("retry.maxAttempts must be between 1 and \(Self.maximumAttempts)")
        }
        switch backoff {
        case .fixed(let wait):
            if !(0...Self.maximumWaitMilliseconds).contains(wait) {
                problems.append("retry wait must be between 0 and \(Self.maximumWaitMilliseconds) ms")
            }
        case .exponential(let base, let max, let jitter):
            if !(1...Self.maximumWaitMilliseconds).contains(base) || !(base...Self.maximumWaitMilliseconds).contains(max) {
                problems.append("retry base must be at least 1 ms and max between base and \(Self.maximumWaitMilliseconds) ms")
            }
            if !(0.0...1.0).contains(jitter) { problems.append("retry jitter must be between 0 and 1") }
        }
        return problems
    }

    /// Whether an attempt numbered `attempt` (1-based) that failed leaves another one.
    public func allowsAnotherAttempt(after attempt: Int) -> Bool {
        attempt < maxAttempts
    }

    /// The wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed.
    ///
    /// - Parameter random: a number in `0..<1` that places the jitter; pass a fixed one in tests.
    public func waitMilliseconds(after attempt: Int, random: Double) -> Int {
        switch backoff {
        case .fixed(let wait):
            return wait
        case .exponential(let base, let max, let jitter):
            let exponent = Swift.max(0, Swift.min(attempt - 1, 40))
            let raw = Swift.min(Double(base) * Double(1 << exponent), Double(max))
            let spread = raw * jitter * (2 * random - 1)
            return Swift.max(0, Int((raw + spread).rounded()))
        }
    }
}

extension RetryPolicy.Backoff {
    private enum CodingKeys: String, CodingKey {
        case kind, milliseconds, baseMilliseconds, maxMilliseconds, jitter
    }

    private enum Kind: String, Codable {
        case fixed, exponential
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .fixed:
            self = .fixed(milliseconds: try container.decode(Int.self, forKey: .milliseconds))
        case .exponential:
            self = .exponential(
                baseMilliseconds: try container.decode(Int.self, forKey: .baseMilliseconds),
                maxMilliseconds: try container.decode(Int.self, forKey: .maxMilliseconds),
                jitter: try container.decodeIfPresent(Double.self, forKey: .jitter) ?? 0.2
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .fixed(let milliseconds):
            try container.encode(Kind.fixed, forKey: .kind)
            try container.encode(milliseconds, forKey: .milliseconds)
        case .exponential(let base, let max, let jitter):
            try container.encode(Kind.exponential, forKey: .kind)
            try container.encode(base, forKey: .baseMilliseconds)
            try container.encode(max, forKey: .maxMilliseconds)
            try container.encode(jitter, forKey: .jitter)
        }
    }
}
