import CSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Waits for the exits of every bot of the worker on one thread: each child's pidfd joins an
/// epoll set, and the thread tells whoever watches a child once its pidfd turns readable.
/// A worker running a thousand bots holds one waiting thread, not a thousand.
///
/// Like ``BotProcess/waitUntilExited()`` it never reaps: the exited bot stays a zombie, so its
/// pid (its process group's id) is not reused until the bot is reaped on purpose.
final class ChildExitWatcher: Sendable {
    /// The worker's watcher, made (and its thread started) when the first child is waited for.
    static let shared = ChildExitWatcher()

    private let epoll: Int32
    /// What a watcher of a child is told: how it ended.
    typealias ExitHandler = @Sendable (BotProcess.Termination) -> Void

    private let waiting = Mutex<[Int32: (pid: pid_t, onExit: ExitHandler)]>([:])

    private init() {
        epoll = botyard_epoll_create()
        guard epoll >= 0 else { return }
        let thread = Thread { [self] in watch() }
        thread.name = "bot exits"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Calls `onExit` once `pid`, a child of this process, has exited, without reaping it: on the
    /// watcher's thread, or on a thread of its own for this child where the kernel offers no pidfd.
    func watch(_ pid: pid_t, onExit: @escaping ExitHandler) {
        let descriptor = epoll >= 0 ? botyard_pidfd_open(pid) : -1
        guard descriptor >= 0 else { return Self.waitOnThread(pid, onExit) }
        waiting.withLock { $0[descriptor] = (pid, onExit) }
        if botyard_epoll_watch_once(epoll, descriptor) != 0 {
            // Cannot be watched (out of memory for the set): a thread of its own waits for this child.
            waiting.withLock { _ = $0.removeValue(forKey: descriptor) }
            close(descriptor)
            Self.waitOnThread(pid, onExit)
        }
    }

    /// Waits until `pid`, a child of this process, has exited, without reaping it.
    func waitUntilExited(_ pid: pid_t) async -> BotProcess.Termination {
        await withCheckedContinuation { continuation in
            watch(pid) { continuation.resume(returning: $0) }
        }
    }

    /// Waits for `pid` on a thread of its own, never on Swift's cooperative pool, and tells `onExit`.
    private static func waitOnThread(_ pid: pid_t, _ onExit: @escaping ExitHandler) {
        let thread = Thread { onExit(exitStatus(of: pid)) }
        thread.name = "wait \(pid)"
        thread.stackSize = 64 * 1024
        thread.start()
    }

    /// Children being waited for now.
    var waitingCount: Int { waiting.withLock { $0.count } }

    private func watch() {
        var ready = [Int32](repeating: -1, count: 64)
        while true {
            let count = botyard_epoll_wait_ready(epoll, &ready, Int32(ready.count))
            guard count >= 0 else {
                // Not expected (the set is valid for the process's life); never a busy loop.
                usleep(10_000)
                continue
            }
            for descriptor in ready.prefix(Int(count)) {
                guard let child = waiting.withLock({ $0.removeValue(forKey: descriptor) }) else { continue }
                close(descriptor)
                child.onExit(Self.exitStatus(of: child.pid))
            }
        }
    }

    /// How `pid` ended, once it has (blocking until then), leaving it unreaped.
    static func exitStatus(of pid: pid_t) -> BotProcess.Termination {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        let status = info._sifields._sigchld.si_status
        return Int(info.si_code) == CLD_EXITED ? .exited(status) : .signalled(status)
    }
}
