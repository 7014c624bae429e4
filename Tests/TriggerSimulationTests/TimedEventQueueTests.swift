import Testing

@testable import TriggerSimulation

@Suite("Timed event queue")
struct TimedEventQueueTests {
    @Test("events come out earliest first, and in the order they were scheduled within one time")
    func order() {
        var queue = TimedEventQueue<String>()
        for (event, time) in [("c", 3.0), ("a1", 1), ("b", 2), ("a2", 1), ("d", 10), ("a3", 1), ("b2", 2)] {
            queue.schedule(event, at: time)
        }
        #expect(queue.nextTime == 1)
        var popped: [String] = []
        while let (_, event) = queue.popNext() { popped.append(event) }
        #expect(popped == ["a1", "a2", "a3", "b", "b2", "c", "d"])
        #expect(queue.isEmpty && queue.popNext() == nil)
    }

    @Test("a thousand events in shuffled order come out sorted")
    func manyEvents() {
        var generator = SeededGenerator(seed: 7)
        var queue = TimedEventQueue<Int>()
        for index in (0..<1_000).shuffled(using: &generator) { queue.schedule(index, at: Double(index / 3)) }
        var last = (time: -1.0, event: -1)
        while let next = queue.popNext() {
            #expect(next.time >= last.time)
            last = next
        }
        #expect(last.time == 333)
    }
}
