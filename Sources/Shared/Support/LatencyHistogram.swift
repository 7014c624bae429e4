import Foundation

/// Durations counted in buckets that grow by 2^(1/8) (about 9 %) from one microsecond: a fixed,
/// small footprint however many are recorded, percentiles within a bucket's width, and
/// histograms of several processes added up by ``merge(_:)``.
public struct LatencyHistogram: Codable, Sendable, Equatable {
    /// Buckets per doubling of the duration.
    static let bucketsPerDoubling = 8.0
    /// The last bucket holds everything from about 2^27 µs (134 s) up.
    static let bucketCount = 216

    /// `counts[i]`: durations in `[lowerBound(i), lowerBound(i + 1))`; the first one holds those under 1 µs too.
    public private(set) var counts: [Int]
    /// The longest duration recorded, in microseconds.
    public private(set) var maxMicroseconds: Double = 0

    public init() {
        counts = Array(repeating: 0, count: Self.bucketCount)
    }

    public var count: Int { counts.reduce(0, +) }

    public mutating func record(_ duration: Duration) {
        let microseconds = max(0, duration.seconds * 1e6)
        counts[Self.bucket(ofMicroseconds: microseconds)] += 1
        maxMicroseconds = max(maxMicroseconds, microseconds)
    }

    /// Adds `other`'s counts (a histogram read from a file of another size adds what both have).
    public mutating func merge(_ other: LatencyHistogram) {
        for (index, count) in other.counts.prefix(counts.count).enumerated() { counts[index] += count }
        maxMicroseconds = max(maxMicroseconds, other.maxMicroseconds)
    }

    /// The duration under which `fraction` (0...1) of those recorded fall: the upper bound of its
    /// bucket, never above the longest one recorded; nil when nothing was recorded.
    public func percentile(_ fraction: Double) -> Duration? {
        let total = count
        guard total > 0 else { return nil }
        let rank = max(1, Int((fraction * Double(total)).rounded(.up)))
        var seen = 0
        for (index, bucketCount) in counts.enumerated() {
            seen += bucketCount
            if seen >= rank {
                // The last bucket has no upper bound.
                let upper = index == counts.count - 1 ? maxMicroseconds : Self.lowerBound(ofBucket: index + 1)
                return .microseconds(min(upper, maxMicroseconds))
            }
        }
        return .microseconds(maxMicroseconds)
    }

    static func bucket(ofMicroseconds microseconds: Double) -> Int {
        guard microseconds >= 1 else { return 0 }
        return min(bucketCount - 1, Int((log2(microseconds) * bucketsPerDoubling).rounded(.down)))
    }

    static func lowerBound(ofBucket index: Int) -> Double {
        exp2(Double(index) / bucketsPerDoubling)
    }
}
