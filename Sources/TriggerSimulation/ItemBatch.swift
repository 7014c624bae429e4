/// Items a scenario adds to the work queue: in one bulk add (one evaluation of the trigger), or one by one.
public struct ItemBatch: Sendable, Equatable {
    public var count: Int
    /// When the first item is added, in seconds from the start.
    public var at: Double
    /// Seconds between two items added one by one; nil adds them all at once.
    public var interval: Double?
    /// Seconds an item stays postponed once added (0: ready at once).
    public var postponedFor: Double
    /// Seconds a job works on one item, on average.
    public var processingSeconds: Double
    /// How far one item's processing time strays from the average, as a fraction: 0.2 draws each
    /// uniformly between 80 % and 120 % (from the scenario's seed). 0 gives every item the same time.
    public var processingJitter: Double

    public init(count: Int, at: Double = 0, interval: Double? = nil, postponedFor: Double = 0,
                processingSeconds: Double, processingJitter: Double = 0) {
        self.count = count
        self.at = at
        self.interval = interval
        self.postponedFor = postponedFor
        self.processingSeconds = processingSeconds
        self.processingJitter = processingJitter
    }

    /// `count` items in one bulk add at `at`.
    public static func bulk(_ count: Int, at: Double = 0, postponedFor: Double = 0, processingSeconds: Double,
                            processingJitter: Double = 0) -> ItemBatch {
        ItemBatch(count: count, at: at, postponedFor: postponedFor, processingSeconds: processingSeconds,
                  processingJitter: processingJitter)
    }

    /// `count` items added one at a time, the first at `at`, then one every `interval` seconds.
    public static func oneByOne(_ count: Int, every interval: Double, from at: Double = 0, postponedFor: Double = 0,
                                processingSeconds: Double, processingJitter: Double = 0) -> ItemBatch {
        ItemBatch(count: count, at: at, interval: interval, postponedFor: postponedFor,
                  processingSeconds: processingSeconds, processingJitter: processingJitter)
    }

    /// The adds this batch makes: when, and how many items each.
    var additions: [(time: Double, count: Int)] {
        guard count > 0 else { return [] }
        guard let interval else { return [(at, count)] }
        return (0..<count).map { (at + Double($0) * interval, 1) }
    }

    var problems: [String] {
        var problems: [String] = []
        if count < 0 { problems.append("an item batch cannot have a negative count") }
        if at < 0 || postponedFor < 0 || processingSeconds < 0 || (interval ?? 0) < 0 {
            problems.append("an item batch's times must not be negative")
        }
        if !(0...1).contains(processingJitter) { problems.append("processingJitter must be between 0 and 1") }
        return problems
    }
}
