import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The files of one run, side by side in the worker's `runs` folder under the run's name: the
/// bot's log, the outputs it may write (`BOTYARD_OUTPUT`) and its stop file (`BOTYARD_STOP_FILE`).
///
/// No folder per run: on a busy worker, creating and removing a job's folder and its run's folder
/// for every job was about a third of the worker's CPU (`perf`: the file system's inode allocation
/// for `mkdir`), more than the bot's own spawn. A run creates one file now, its log.
struct RunFiles: Sendable, Equatable {
    let log: String
    let outputs: String
    let stop: String

    init(folder: String, jobID: Int64, attempt: Int, runID: String) {
        let base = "\(folder)/\(jobID)-attempt-\(attempt)-\(runID.prefix(8))"
        log = base + ".log"
        outputs = base + ".outputs"
        stop = base + ".stop"
    }

    /// Makes sure `folder` exists: one `mkdir` that finds it there, as a rule.
    static func prepare(_ folder: String) throws {
        guard mkdir(folder, 0o755) != 0, errno != EEXIST else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// Removes the run's files (those it has), once its outcome is reported.
    func remove() {
        for path in [log, outputs, stop] { unlink(path) }
    }
}
