/// How long to wait before each reconnection: a ceiling that doubles from `initial` up to
/// `maximum`, and a wait drawn at random between half the ceiling and the ceiling.
///
/// The random half keeps a fleet apart: after a broker restart every worker and dispatcher
/// connection sees the failure at the same instant, and without it they would all come back in
/// lockstep, each round of reconnections hitting the broker at once.
public struct ReconnectBackoff: Sendable, Equatable {
    public let initial: Duration
    public let maximum: Duration
    /// The longest the next wait may be.
    public private(set) var ceiling: Duration

    public init(initial: Duration, maximum: Duration) {
        precondition(initial > .zero && maximum >= initial, "backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self.ceiling = initial
    }

    /// The wait before the next attempt; each call doubles the ceiling, up to `maximum`.
    public mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        let delay = ceiling * Double.random(in: 0.5...1, using: &generator)
        ceiling = min(ceiling * 2, maximum)
        return delay
    }

    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// Back to `initial`, after a connection that succeeded.
    public mutating func reset() {
        ceiling = initial
    }
}
