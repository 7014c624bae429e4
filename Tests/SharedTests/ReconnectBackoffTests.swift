import Shared
import Testing

@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
    @Test("connections that fail at the same instant wait different times before reconnecting")
    func waitsAreSpread() {
        let initial = Duration.milliseconds(200)
        let firstWaits = (0..<100).map { _ in
            var backoff = ReconnectBackoff(initial: initial, maximum: .seconds(5))
            return backoff.nextDelay()
        }
        #expect(firstWaits.allSatisfy { $0 >= initial / 2 && $0 <= initial })
        #expect(Set(firstWaits).count > 90)
        #expect(firstWaits.max()! - firstWaits.min()! > initial / 4)
    }

    @Test("the ceiling doubles up to the maximum, and a successful connection starts it over")
    func ceilingDoublesAndResets() {
        var backoff = ReconnectBackoff(initial: .milliseconds(200), maximum: .seconds(5))
        var ceilings: [Duration] = []
        for _ in 0..<7 {
            ceilings.append(backoff.ceiling)
            let wait = backoff.nextDelay()
            #expect(wait >= ceilings.last! / 2 && wait <= ceilings.last!)
        }
        #expect(ceilings == [200, 400, 800, 1600, 3200, 5000, 5000].map { Duration.milliseconds($0) })
        backoff.reset()
        #expect(backoff.ceiling == .milliseconds(200))
    }
}
