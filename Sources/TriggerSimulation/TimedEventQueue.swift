/// Events waiting for their time on a simulated clock: a binary min-heap ordered by time, and by
/// the order they were scheduled among events of one time, so that a run is deterministic.
public struct TimedEventQueue<Event: Sendable>: Sendable {
    private struct Entry: Sendable {
        var time: Double
        var sequence: Int
        var event: Event

        func comesBefore(_ other: Entry) -> Bool {
            (time, sequence) < (other.time, other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var scheduled = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }

    /// The time of the next event, if any.
    public var nextTime: Double? { heap.first?.time }

    /// Adds `event` to happen at `time` (seconds), after every event already scheduled for that time.
    public mutating func schedule(_ event: Event, at time: Double) {
        heap.append(Entry(time: time, sequence: scheduled, event: event))
        scheduled += 1
        siftUp(from: heap.count - 1)
    }

    /// Removes and returns the earliest event with its time.
    public mutating func popNext() -> (time: Double, event: Event)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let next = heap.removeLast()
        if !heap.isEmpty { siftDown(from: 0) }
        return (next.time, next.event)
    }

    private mutating func siftUp(from index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].comesBefore(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(from index: Int) {
        var parent = index
        while true {
            var first = parent
            for child in [2 * parent + 1, 2 * parent + 2]
            where child < heap.count && heap[child].comesBefore(heap[first]) {
                first = child
            }
            guard first != parent else { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
