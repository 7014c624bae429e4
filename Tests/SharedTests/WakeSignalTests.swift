import Shared
import Synchronization
import Testing

@Suite("Wake signal")
struct WakeSignalTests {
    @Test("a notification nobody waited for is taken once, by a take or by the next wait")
    func notificationRememberedOnce() async {
        let signal = WakeSignal()
        #expect(!signal.takeNotification())
        signal.notify()
        signal.notify()
        #expect(signal.takeNotification())
        #expect(!signal.takeNotification())

        signal.notify()
        let clock = ContinuousClock()
        let waited = await clock.measure { await signal.wait(timeout: .seconds(30)) }
        #expect(waited < .seconds(20))
        #expect(!signal.takeNotification())
    }

    @Test("a wait ends at its timeout without a notification, and at once with one")
    func waitEnds() async {
        let signal = WakeSignal()
        let clock = ContinuousClock()
        let timedOut = await clock.measure { await signal.wait(timeout: .milliseconds(50)) }
        #expect(timedOut >= .milliseconds(50))
        let woken = Task { await clock.measure { await signal.wait(timeout: .seconds(30)) } }
        repeat {
            signal.notify()
            await Task.yield()
        } while signal.takeNotification()  // taken back: the wait had not begun yet
        #expect(await woken.value < .seconds(20))
    }

    @Test("a notification ends every wait, however many tasks wait at once")
    func everyWaiterWakes() async throws {
        let signal = WakeSignal()
        let ended = EndedWaits()
        for _ in 0..<3 {
            Task {
                await signal.wait(timeout: .seconds(60))
                ended.count.add(1, ordering: .relaxed)
            }
        }
        // A wait that has not begun yet when a notification comes waits for the next one.
        let deadline = ContinuousClock.now + .seconds(60)
        while ended.count.load(ordering: .relaxed) < 3 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            signal.notify()
        }
        #expect(ended.count.load(ordering: .relaxed) == 3)
    }

    @Test("a wait without a timeout ends on a notification, and on cancellation")
    func untimedWaitEnds() async {
        let signal = WakeSignal()
        let clock = ContinuousClock()
        let woken = Task { await clock.measure { await signal.wait() } }
        repeat {
            signal.notify()
            await Task.yield()
        } while signal.takeNotification()
        #expect(await woken.value < .seconds(60))

        let cancelled = Task { await clock.measure { await signal.wait() } }
        try? await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        #expect(await cancelled.value < .seconds(60))
        #expect(!signal.takeNotification())
    }

    @Test("a wait through cancellation ends on a notification or at its timeout, never on its task's cancellation")
    func waitThroughCancellation() async throws {
        let signal = WakeSignal()
        let clock = ContinuousClock()
        let timed = Task { await clock.measure { await signal.waitThroughCancellation(timeout: .milliseconds(300)) } }
        timed.cancel()
        #expect(await timed.value >= .milliseconds(300))

        let ended = EndedWaits()
        let untimed = Task {
            await signal.waitThroughCancellation(timeout: nil)
            ended.count.add(1, ordering: .relaxed)
        }
        untimed.cancel()
        try await Task.sleep(for: .milliseconds(200))
        #expect(ended.count.load(ordering: .relaxed) == 0, "the wait ended with its task's cancellation")
        let deadline = ContinuousClock.now + .seconds(60)
        while ended.count.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
            signal.notify()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(ended.count.load(ordering: .relaxed) == 1)
    }

    @Test("a periodic notifier wakes a wait without a timeout until it is cancelled")
    func periodicNotifier() async {
        let signal = WakeSignal()
        let notifier = Task { await signal.notify(every: .milliseconds(20)) }
        let clock = ContinuousClock()
        for _ in 0..<3 {
            #expect(await clock.measure { await signal.wait() } < .seconds(60))
        }
        notifier.cancel()
        await notifier.value
        _ = signal.takeNotification()
        try? await Task.sleep(for: .milliseconds(60))
        #expect(!signal.takeNotification())
    }
}

private final class EndedWaits: Sendable {
    let count = Atomic<Int>(0)
}
