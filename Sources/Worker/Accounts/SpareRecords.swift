import Synchronization

/// Blanked record files of this process, per account, each kept under the name it had (the pid of the
/// run it recorded), to be renamed into the next run's record.
///
/// On a busy worker, creating a record file for every bot and deleting it afterwards cost more CPU than
/// anything else the worker does for a job (`perf`: the file system's inode allocation skipping
/// recently deleted inodes). A rename allocates nothing: an ended run's record is blanked in place,
/// and the next run's record is a spare renamed to its pid — or that very spare when the pid is reused.
final class SpareRecords: Sendable {
    private let spares = Mutex<[String: [String]]>([:])

    /// A spare of `account` to use: the one named `name` if it is kept (it needs no rename, and no
    /// later run may rename it away), else any.
    func take(account: String, preferring name: String) -> String? {
        spares.withLock { spares in
            guard let index = spares[account]?.firstIndex(of: name) else { return spares[account]?.popLast() }
            return spares[account]?.remove(at: index)
        }
    }

    /// Keeps `name`, a blanked record of `account`, as a spare (once, however often it is kept).
    func keep(_ name: String, account: String) {
        spares.withLock { spares in
            if spares[account]?.contains(name) != true { spares[account, default: []].append(name) }
        }
    }

    /// Forgets the spares of `account`: a takeover deletes every file of the account that is not a record.
    func drop(account: String) {
        spares.withLock { $0[account] = nil }
    }
}
