#if canImport(Glibc)
import Glibc
#endif

/// The deadlines of the process's timed waits, kept in one heap and fired by one thread.
///
/// A timed ``WakeSignal/wait(timeout:)`` used to race a sleeping child task in a task group: a task,
/// a timer of the runtime's and two task switches for every wait, and a worker waits twice a job
/// (its start's report held back, its bot's timeout), mostly ended early by the run's end. Here a
/// deadline costs an entry under a lock, and a cancelled one only its removal from the table of
/// actions; the thread sleeps until the earliest deadline and is woken only when a new one comes
/// before it.
public final class DeadlineTimer: @unchecked Sendable {
    /// The process's timer, its thread started on first use.
    public static let shared = DeadlineTimer()

    /// A scheduled action, to cancel it.
    public struct Token: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        var deadline: ContinuousClock.Instant
        var id: UInt64
    }

    // Guarded by `mutex`; `condition` wakes the thread.
    private var heap = DeadlineHeap<Entry>(before: { $0.deadline < $1.deadline })
    private var actions: [UInt64: @Sendable () -> Void] = [:]
    private var nextID: UInt64 = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// A timer with a thread of its own, for the process's life (``shared``; tests make their own).
    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Waits measured on the monotonic clock: a change of the wall clock moves no deadline.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            let timer = Unmanaged<DeadlineTimer>.fromOpaque(context!).takeRetainedValue()
            ThreadName.setCurrent("deadlines")
            timer.run()
        }, context)
        precondition(started == 0, "the deadline timer's thread could not start (\(started))")
        pthread_detach(thread)
    }

    /// Runs `action` on the timer's thread once `delay` has passed, unless cancelled first. The
    /// action must be short: every later deadline waits for it.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Token {
        let deadline = ContinuousClock.now.advanced(by: max(delay, .zero))
        pthread_mutex_lock(mutex)
        nextID &+= 1
        let id = nextID
        actions[id] = action
        heap.insert(Entry(deadline: deadline, id: id))
        // Only a deadline before every other one changes how long the thread sleeps.
        if heap.first?.id == id { pthread_cond_signal(condition) }
        pthread_mutex_unlock(mutex)
        return Token(id: id)
    }

    /// Drops the action of `token` if it has not run: it never will.
    public func cancel(_ token: Token) {
        pthread_mutex_lock(mutex)
        actions[token.id] = nil
        // Cancelled entries stay in the heap until their deadline; a heap of mostly cancelled
        // entries (long timeouts, ended early) is rebuilt from those still pending.
        if heap.count > 64 && heap.count > 4 * actions.count {
            heap.removeAll { actions[$0.id] == nil }
        }
        pthread_mutex_unlock(mutex)
    }

    /// Actions waiting for their deadline, and entries in the heap (those and cancelled ones).
    var counts: (pending: Int, entries: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return (actions.count, heap.count)
    }

    private func run() -> Never {
        pthread_mutex_lock(mutex)
        while true {
            let now = ContinuousClock.now
            var due: [@Sendable () -> Void] = []
            while let earliest = heap.first, earliest.deadline <= now {
                heap.removeFirst()
                if let action = actions.removeValue(forKey: earliest.id) { due.append(action) }
            }
            if !due.isEmpty {
                pthread_mutex_unlock(mutex)
                for action in due { action() }
                pthread_mutex_lock(mutex)
            } else if let earliest = heap.first {
                var until = timespec()
                clock_gettime(CLOCK_MONOTONIC, &until)
                let (seconds, attoseconds) = (earliest.deadline - now).components
                let nanoseconds = Int(until.tv_nsec) + Int(attoseconds / 1_000_000_000)
                until.tv_sec += Int(min(seconds, 1_000_000_000)) + nanoseconds / 1_000_000_000
                until.tv_nsec = nanoseconds % 1_000_000_000
                pthread_cond_timedwait(condition, mutex, &until)
            } else {
                pthread_cond_wait(condition, mutex)
            }
        }
    }
}

/// A binary min-heap under a caller's order: the earliest element first.
struct DeadlineHeap<Element> {
    private var elements: [Element] = []
    private let before: (Element, Element) -> Bool

    init(before: @escaping (Element, Element) -> Bool) {
        self.before = before
    }

    var count: Int { elements.count }
    var first: Element? { elements.first }

    mutating func insert(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(elements[child], elements[parent]) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        elements.swapAt(0, elements.count - 1)
        elements.removeLast()
        siftDown(from: 0)
    }

    /// Removes every element `shouldRemove` names, and orders the rest again.
    mutating func removeAll(where shouldRemove: (Element) -> Bool) {
        elements.removeAll(where: shouldRemove)
        for index in stride(from: elements.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < elements.count else { return }
            let right = left + 1
            let child = right < elements.count && before(elements[right], elements[left]) ? right : left
            guard before(elements[child], elements[parent]) else { return }
            elements.swapAt(child, parent)
            parent = child
        }
    }
}
