/// A channel's publishes waiting for the broker's confirm, by delivery tag.
///
/// The broker numbers a channel's publishes 1, 2, 3… and confirms them mostly in order, often
/// many at once (`multiple`: every tag up to this one), now and then one alone. Tags are added in
/// order, so settling walks up from the oldest unsettled tag instead of sorting every pending tag
/// on each confirm: a relay keeps hundreds in flight.
struct PendingPublishes<Pending> {
    private var byTag: [UInt64: Pending] = [:]
    /// No tag below it is pending.
    private var oldest: UInt64 = 0
    /// Above the newest tag added.
    private var next: UInt64 = 0

    var isEmpty: Bool { byTag.isEmpty }
    var count: Int { byTag.count }

    /// Adds a publish; `tag` is above every tag added before.
    mutating func add(_ pending: Pending, tag: UInt64) {
        precondition(tag >= next, "delivery tags are added in order")
        if byTag.isEmpty { oldest = tag }
        byTag[tag] = pending
        next = tag + 1
    }

    /// The publishes a confirm of `tag` settles, oldest first: that one alone, or with `multiple`
    /// every one up to it. Tags never added, or settled already, are passed over.
    mutating func settle(upTo tag: UInt64, multiple: Bool) -> [Pending] {
        guard multiple else {
            guard let pending = byTag.removeValue(forKey: tag) else { return [] }
            advanceOldest()
            return [pending]
        }
        guard !byTag.isEmpty else { return [] }
        var settled: [Pending] = []
        // Bounded by the tags added: a confirm of a tag far ahead walks no further.
        let end = min(tag, next - 1)
        if oldest <= end {
            for settling in oldest...end {
                if let pending = byTag.removeValue(forKey: settling) { settled.append(pending) }
            }
            oldest = end + 1
        }
        advanceOldest()
        return settled
    }

    /// Changes the oldest pending publish that `matches` (nothing when none does).
    mutating func updateOldest(where matches: (Pending) -> Bool, _ update: (inout Pending) -> Void) {
        guard !byTag.isEmpty else { return }
        for tag in oldest..<next {
            guard let pending = byTag[tag], matches(pending) else { continue }
            update(&byTag[tag]!)
            return
        }
    }

    /// Every pending publish, oldest first, forgotten.
    mutating func removeAll() -> [Pending] {
        let all = byTag.sorted { $0.key < $1.key }.map(\.value)
        byTag = [:]
        oldest = next
        return all
    }

    /// Past tags settled out of order (a single confirm of the oldest).
    private mutating func advanceOldest() {
        if byTag.isEmpty {
            oldest = next
            return
        }
        while oldest < next && byTag[oldest] == nil { oldest += 1 }
    }
}
