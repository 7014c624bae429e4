import Foundation
import Shared
import Testing

@Suite("Latency histogram")
struct LatencyHistogramTests {
    @Test("percentiles fall within a bucket's width (9 %) of the exact ones")
    func percentilesAreClose() {
        var histogram = LatencyHistogram()
        var exact: [Double] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            // Log-uniform between 10 µs and 1 s, as latencies spread.
            let microseconds = pow(10, Double.random(in: 1...6, using: &generator))
            exact.append(microseconds)
            histogram.record(.microseconds(microseconds))
        }
        exact.sort()
        for fraction in [0.5, 0.9, 0.99] {
            let truth = exact[Int((fraction * Double(exact.count)).rounded(.up)) - 1]
            let estimate = histogram.percentile(fraction)!.seconds * 1e6
            #expect(estimate >= truth * (1 - 1e-9) && estimate <= truth * 1.0906,
                    "p\(fraction * 100): \(estimate) vs \(truth)")
        }
        // The longest, through a Duration of attoseconds and back.
        #expect(abs(histogram.percentile(1)!.seconds * 1e6 - exact.last!) < 1e-6)
        #expect(histogram.count == 10_000)
    }

    @Test("histograms of several processes add up, and survive a round trip through JSON")
    func mergesAndCodes() throws {
        var first = LatencyHistogram()
        var second = LatencyHistogram()
        for _ in 0..<3 { first.record(.milliseconds(2)) }
        second.record(.seconds(3))
        first.merge(second)
        #expect(first.count == 4)
        #expect(first.percentile(0.5)! < .microseconds(2_200) && first.percentile(1) == .seconds(3))
        let decoded = try JSONDecoder().decode(LatencyHistogram.self, from: JSONEncoder().encode(first))
        #expect(decoded == first)
    }

    @Test("nothing recorded has no percentile; under a microsecond and beyond the last bucket are counted")
    func edges() {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(0.5) == nil)
        histogram.record(.nanoseconds(10))
        histogram.record(.seconds(1_000))
        #expect(histogram.count == 2)
        #expect(histogram.percentile(1) == .seconds(1_000))
    }
}
