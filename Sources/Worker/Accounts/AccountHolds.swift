import Foundation
import Shared
import Synchronization

/// Accounts that take no jobs until an operator clears them: a cleanup command failed there, so the
/// account's GUI session may still be half-driven.
///
/// Each hold is a file, `<work directory>/accounts/<host>/<account>/hold`, holding the reason, so that it
/// survives a restart of the worker and is seen by a worker of the host that takes the account over.
final class AccountHolds: Sendable {
    /// `<work directory>/accounts/<host>`, shared with ``OrphanReaper``.
    let directory: URL
    private let reasons: Mutex<[String: String]>
    /// One per account: wakes its ``AccountServer`` when its hold is set or cleared.
    private let signals: [String: WakeSignal]

    init(workDirectory: URL, host: String, accounts: [String]) {
        directory = workDirectory.appendingPathComponent("accounts/\(host)", isDirectory: true)
        var reasons: [String: String] = [:]
        for account in accounts {
            let file = directory.appendingPathComponent("\(account)/hold")
            if let reason = try? String(contentsOf: file, encoding: .utf8) { reasons[account] = reason }
        }
        self.reasons = Mutex(reasons)
        signals = Dictionary(uniqueKeysWithValues: accounts.map { ($0, WakeSignal()) })
    }

    /// Why `account` is held; nil when it takes jobs.
    func reason(of account: String) -> String? {
        reasons.withLock { $0[account] }
    }

    /// Every hold, by account.
    var all: [String: String] { reasons.withLock { $0 } }

    /// Holds `account` with `reason`, on disk first.
    func hold(_ account: String, reason: String) {
        let folder = directory.appendingPathComponent(account, isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try? Data(reason.utf8).write(to: folder.appendingPathComponent("hold"), options: .atomic)
        reasons.withLock { $0[account] = reason }
        signals[account]?.notify()
    }

    /// Clears the hold of `account`; false when it was not held.
    @discardableResult
    func clear(_ account: String) -> Bool {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("\(account)/hold"))
        let wasHeld = reasons.withLock { $0.removeValue(forKey: account) != nil }
        signals[account]?.notify()
        return wasHeld
    }

    /// Returns when the hold of `account` may have changed, after `timeout`, or on cancellation.
    func waitForChange(of account: String, timeout: Duration) async {
        guard let signal = signals[account] else { return }
        await signal.wait(timeout: timeout)
    }
}
