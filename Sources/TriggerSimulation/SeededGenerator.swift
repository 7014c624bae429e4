/// SplitMix64: a small random number generator that gives the same numbers for the same seed on
/// every machine and Swift version, so that a scenario with varying times runs the same every time.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in -1...1, uniformly (computed here rather than by `Double.random`, whose method may change).
    mutating func nextSigned() -> Double {
        Double(next() >> 11) * 0x1p-52 - 1
    }
}
