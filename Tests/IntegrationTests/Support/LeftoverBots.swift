import Foundation
import TestSupport

/// Bots still running after the worker processes that started them have stopped: what a worker
/// killed with `kill -9` leaves behind when no other worker takes its account over, or a stamp or
/// waiting loop bot (`hold`, `blocker`) of a test that failed before letting it end.
///
/// Found by `BOTYARD_OUTPUT`, which a worker gives every bot and which the bot's own children
/// inherit: it points into the worker's work directory. That needs no help from the bot, and no
/// trust in the worker's own records of what it runs.
enum LeftoverBots {
    /// Live processes whose `BOTYARD_OUTPUT` lies under `workDirectory`.
    static func find(under workDirectory: URL) -> [pid_t] {
        let prefix = Data("BOTYARD_OUTPUT=\(workDirectory.path)/".utf8)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), pid != getpid(),
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                  environment.split(separator: 0).contains(where: { $0.starts(with: prefix) }),
                  isRunning(pid)
            else { return nil }
            return pid
        }
    }

    /// Kills every one of them with SIGKILL, with the process group it leads.
    /// - Returns: their pids.
    @discardableResult
    static func kill(under workDirectory: URL) -> [pid_t] {
        let pids = find(under: workDirectory)
        for pid in pids {
            if getpgid(pid) == pid { Foundation.kill(-pid, SIGKILL) }
            Foundation.kill(pid, SIGKILL)
        }
        return pids
    }
}
