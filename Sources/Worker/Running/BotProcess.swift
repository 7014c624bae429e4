import CSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A bot running as a child process, leader of its own process group.
///
/// Started with `posix_spawn` from an argv (never through a shell), stdin from `/dev/null`,
/// stdout and stderr appended to a log file, descriptors above 2 closed, and the signals the
/// worker itself ignores or blocks reset, so that the bot reacts to SIGTERM normally.
struct BotProcess: Sendable {
    let pid: pid_t
    /// Tells it apart from a later process given its pid: its start, bracketed by the boot clock
    /// read around its spawn; nil where the boot's id cannot be read.
    var identity: ProcessIdentity?

    /// How the process ended.
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    struct SpawnError: Error, CustomStringConvertible {
        var program: String
        var errno: Int32
        var description: String { "cannot start \(program): \(String(cString: strerror(errno)))" }
    }

    static func spawn(argv: [String], environment: [String: String], workingDirectory: String?,
                      logPath: String) throws(SpawnError) -> BotProcess {
        let program = argv[0]
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        botyard_spawn_add_closefrom(&fileActions, 3)
        if let workingDirectory {
            botyard_spawn_add_chdir(&fileActions, workingDirectory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)

        let arguments = argv.map { strdup($0) } + [nil]
        let environmentStrings = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            environmentStrings.forEach { free($0) }
        }
        var pid: pid_t = 0
        let before = ProcessIdentity.ticksSinceBoot()
        // posix_spawnp looks the program up in PATH when it has no slash, like execvp.
        let result = posix_spawnp(&pid, program, &fileActions, &attributes, arguments, environmentStrings)
        guard result == 0 else { throw SpawnError(program: program, errno: result) }
        // The kernel stamped the child's start between the two readings of the boot clock.
        let started = before...ProcessIdentity.ticksSinceBoot()
        return BotProcess(pid: pid, identity: ProcessIdentity.bootID.map { .init(boot: $0, startTicks: started) })
    }

    /// Sends `signal` to the bot's whole process group (its children included).
    func signalGroup(_ signal: Int32) {
        _ = killpg(pid, signal)
    }

    /// Waits for the bot to end without reaping it (`waitid` with `WNOWAIT`): the leader stays a zombie, so
    /// its pid — the id of its process group — cannot be given to another process until ``reap()``, and
    /// signals to the group meanwhile reach only what is left of the bot. The worker's one
    /// ``ChildExitWatcher`` waits for it, never Swift's cooperative pool.
    func waitUntilExited() async -> Termination {
        await ChildExitWatcher.shared.waitUntilExited(pid)
    }

    /// Reaps the bot after ``waitUntilExited()``: from now on its pid and group id may be reused, so nothing
    /// may signal its group any more.
    func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Waits for the bot to end, and reaps it.
    func waitForExit() async -> Termination {
        let termination = await waitUntilExited()
        reap()
        return termination
    }
}
