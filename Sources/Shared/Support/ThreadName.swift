import Foundation

/// The name the kernel shows for a thread (`top -H`, `perf`, `/proc/<pid>/task/<tid>/comm`).
///
/// A thread the process starts carries the name of the thread that started it until it names
/// itself (Foundation's `Thread.name` does not reach the kernel on Linux): a connection's thread
/// started from the cooperative pool passed for one of the pool's.
public enum ThreadName {
    /// The kernel's limit, without the terminating NUL.
    public static let maximumLength = 15

    private static let currentThreadFile = "/proc/thread-self/comm"

    /// Names the calling thread, cut to ``maximumLength`` bytes; a name that cannot be set is left.
    public static func setCurrent(_ name: String) {
        let descriptor = open(currentThreadFile, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(name.utf8.prefix(maximumLength))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// The calling thread's name as the kernel has it.
    public static var current: String {
        ProcFile.text(currentThreadFile)?.trimmingCharacters(in: .newlines) ?? ""
    }
}
