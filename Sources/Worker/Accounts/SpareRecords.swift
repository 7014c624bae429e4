import Foundation
import Synchronization

/// Blanked record files of this process, per account, kept to be renamed into the next run's record.
///
/// On a busy worker, creating a record file for every bot and deleting it afterwards cost more CPU than
/// anything else the worker does for a job (`perf`: the file system's inode allocation skipping
/// recently deleted inodes). A rename allocates nothing: an ended run's record is blanked and renamed
/// to a spare name, and the next run's record is a spare renamed to its pid.
final class SpareRecords: Sendable {
    private let spares = Mutex<(names: [String: [String]], made: Int)>(([:], 0))

    /// A spare of `account` to use, if one is kept.
    func take(account: String) -> String? {
        spares.withLock { $0.names[account]?.popLast() }
    }

    /// A new name for a spare of `account`, which the caller then keeps with ``keep(_:account:)``.
    func newName() -> String {
        spares.withLock { spares in
            spares.made += 1
            return "\(Self.prefix)\(getpid())-\(spares.made)"
        }
    }

    func keep(_ name: String, account: String) {
        spares.withLock { $0.names[account, default: []].append(name) }
    }

    /// Forgets the spares of `account`: a takeover deletes every file of the account that is not a record.
    func drop(account: String) {
        spares.withLock { $0.names[account] = nil }
    }

    /// What every spare's name starts with (no pid does).
    static let prefix = "spare-"
}
