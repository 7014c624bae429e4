import Foundation
import Synchronization
import TestSupport

extension StampBot {
    /// Notes when the bot of each run is gone, so that a run killed with SIGKILL (which writes no
    /// end stamp) still has an end: the moment the kill took effect, not the moment the test looked.
    ///
    /// Every stamp bot holds a lock on a file of its own for as long as its shell or its `sleep`
    /// lives; the kernel releases it the instant the last of them dies. As soon as a run's start
    /// stamp appears, a thread of this watch blocks on that lock and notes the time it gets it:
    /// when the bot died, or a moment later. An end noted late can only make runs overlap more,
    /// never less, so these ends cannot hide a breach of a limit.
    final class EndWatch: Sendable {
        let bot: StampBot
        /// Runs being watched, by pid, with the time their bot was gone (ns since the epoch).
        private let gone = Locked<[pid_t: UInt64?]>([:])
        private let watching = Atomic<Bool>(true)

        /// Starts watching every run of `bot`, those to come included, until ``stop()``.
        init(_ bot: StampBot) {
            self.bot = bot
            let thread = Thread { [self] in
                while watching.load(ordering: .relaxed) {
                    watchNewRuns()
                    usleep(10_000)
                }
            }
            thread.name = "stamp end watch"
            thread.start()
        }

        /// Stops looking for new runs; threads waiting on a bot end when it does.
        func stop() { watching.store(false, ordering: .relaxed) }

        /// Starts waiting on the runs whose start stamp appeared since the last look. Called every
        /// 10 ms anyway; a test calls it right before it kills a worker, so that no run is missed.
        func watchNewRuns() {
            for run in bot.runs() {
                let isNew = gone.withLock { gone in
                    guard gone[run.pid] == nil else { return false }
                    gone[run.pid] = .some(nil)
                    return true
                }
                if isNew { waitForEnd(of: run.pid) }
            }
        }

        /// The runs as their stamps show them, with the time its bot was gone as the end of each
        /// run that wrote none.
        func runs() -> [Run] {
            let gone = gone.withLock { $0 }
            return bot.runs().map { run in
                var run = run
                if run.end == nil { run.end = gone[run.pid] ?? nil }
                return run
            }
        }

        private func waitForEnd(of pid: pid_t) {
            let path = bot.lock(of: pid).path
            let thread = Thread { [gone] in
                // The lock file exists before the start stamp is written.
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { return }
                defer { close(descriptor) }
                while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
                let end = Self.now()
                gone.withLock { $0[pid] = end }
            }
            thread.name = "stamp end \(pid)"
            thread.stackSize = 64 * 1024
            thread.start()
        }

        /// Nanoseconds since the epoch, the clock of the stamps (`date +%s%N`).
        static func now() -> UInt64 {
            var time = timespec()
            clock_gettime(CLOCK_REALTIME, &time)
            return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
        }
    }
}
