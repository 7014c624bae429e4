/// Decides when a worker's reports go to the broker, and which of them go together.
///
/// A report that finds fewer than `maximumInFlight` publishes awaiting their confirms goes at
/// once, alone: an idle worker adds no wait. One that finds them all out waits, and the reports
/// that waited go as one message (at most `maximumBatch` of them, in the order they came) as soon
/// as a confirm frees a place: under load, one message and one confirm carry many reports. The
/// first report of such a batch leads it — its caller publishes the batch and answers the others.
///
/// Two publishes in flight are the measured balance for a worker of 8 slots under load (README,
/// "Reports that wait go together"): one made the `finished` reports wait for confirms that
/// were not theirs, four left too few reports waiting to batch.
///
/// Pure state: ``EventPublisher`` keeps one and does what it says.
struct ReportBatching<Report> {
    /// The next batch to publish: its leader's caller publishes `followers` with its own report.
    struct Batch {
        var leader: Report
        var followers: [Report]
    }

    let maximumInFlight: Int
    let maximumBatch: Int
    /// Publishes sent and not yet confirmed (or failed).
    private(set) var inFlight = 0
    /// Reports waiting for a place, oldest first.
    private(set) var waiting: [Report] = []

    init(maximumInFlight: Int = 2, maximumBatch: Int = 64) {
        precondition(maximumInFlight >= 1 && maximumBatch >= 1)
        self.maximumInFlight = maximumInFlight
        self.maximumBatch = maximumBatch
    }

    /// A report arrives: true when a place is free and its caller publishes it now, alone (the
    /// place is taken); false when it has to ``wait(_:)``.
    mutating func arrive() -> Bool {
        guard inFlight < maximumInFlight, waiting.isEmpty else { return false }
        inFlight += 1
        return true
    }

    /// Keeps a report that found no place; it comes back in a ``Batch`` from ``settled()``, after
    /// the reports that waited before it.
    mutating func wait(_ report: Report) {
        waiting.append(report)
    }

    /// A publish was confirmed or failed: the batch that takes its place, if reports wait.
    mutating func settled() -> Batch? {
        precondition(inFlight > 0, "a publish settled that was never sent")
        inFlight -= 1
        guard !waiting.isEmpty else { return nil }
        let taken = waiting.prefix(maximumBatch)
        waiting.removeFirst(taken.count)
        inFlight += 1
        return Batch(leader: taken.first!, followers: Array(taken.dropFirst()))
    }
}
