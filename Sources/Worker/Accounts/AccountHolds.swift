import Foundation
import Shared
import Synchronization

/// Accounts that take no jobs until an operator clears them: a cleanup command failed there, so the
/// account's GUI session may still be half-driven.
///
/// Each hold is a file, `<work directory>/accounts/<host>/<account>/hold`, holding the reason, so that it
/// survives a restart of the worker and is seen by a worker of the host that takes the account over.
///
/// The one source of truth for a hold: the file, the reason in memory and the ``AdmissionGate``'s hold
/// change together under one lock, so that a clear racing a hold (or a hand-back) can never leave the
/// gate holding an account that shows no hold, nor refusing jobs for an account that consumes again.
final class AccountHolds: Sendable {
    /// `<work directory>/accounts/<host>`, shared with ``OrphanReaper``.
    let directory: URL
    private let gate: AdmissionGate
    /// Also serializes every change of a hold, the gate's included.
    private let reasons: Mutex<[String: String]>
    /// One per account: wakes its ``AccountServer`` when its hold is set or cleared.
    private let signals: [String: WakeSignal]

    /// Reads the holds on disk and holds their accounts in `gate`.
    init(workDirectory: URL, host: String, accounts: [String], gate: AdmissionGate) {
        directory = workDirectory.appendingPathComponent("accounts/\(host)", isDirectory: true)
        self.gate = gate
        reasons = Mutex([:])
        signals = Dictionary(uniqueKeysWithValues: accounts.map { ($0, WakeSignal()) })
        for account in accounts { reload(account) }
    }

    /// Why `account` is held; nil when it takes jobs.
    func reason(of account: String) -> String? {
        reasons.withLock { $0[account] }
    }

    /// Every hold, by account.
    var all: [String: String] { reasons.withLock { $0 } }

    /// Holds `account` with `reason`, on disk and in the gate: nothing starts there from now on.
    func hold(_ account: String, reason: String) {
        reasons.withLock { reasons in
            let folder = directory.appendingPathComponent(account, isDirectory: true)
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try? Data(reason.utf8).write(to: holdFile(account), options: .atomic)
            reasons[account] = reason
            gate.hold(account: account)
        }
        signals[account]?.notify()
    }

    /// Clears the hold of `account`, on disk and in the gate (its jobs may start again); false when it
    /// was not held.
    @discardableResult
    func clear(_ account: String) -> Bool {
        let wasHeld = reasons.withLock { reasons in
            try? FileManager.default.removeItem(at: holdFile(account))
            gate.release(account: account)
            return reasons.removeValue(forKey: account) != nil
        }
        signals[account]?.notify()
        return wasHeld
    }

    /// The held account no longer consumes: the gate hands its waiting jobs back, and every newcomer.
    /// Done only while the hold lasts, so that a clear that came first is not undone.
    ///
    /// - Returns: the reason of the hold; nil when it was cleared meanwhile (nothing was handed back).
    @discardableResult
    func handBack(_ account: String) -> String? {
        reasons.withLock { reasons in
            guard let reason = reasons[account] else { return nil }
            gate.handBack(account: account)
            return reason
        }
    }

    /// Reads the hold of `account` from disk again and sets the gate to match: another worker process of
    /// the host may have held or cleared it since (a standby taking the account over).
    ///
    /// - Returns: the reason of the hold; nil when the account is not held.
    @discardableResult
    func reload(_ account: String) -> String? {
        let reason = reasons.withLock { reasons -> String? in
            let reason = try? String(contentsOf: holdFile(account), encoding: .utf8)
            reasons[account] = reason
            if reason != nil { gate.hold(account: account) } else { gate.release(account: account) }
            return reason
        }
        signals[account]?.notify()
        return reason
    }

    /// Returns when the hold of `account` may have changed, after `timeout` (nil: none), or on
    /// cancellation. Every change of a hold goes through this type and wakes the account's waiter,
    /// and one that comes while nobody waits ends the next wait at once.
    func waitForChange(of account: String, timeout: Duration?) async {
        guard let signal = signals[account] else { return }
        await signal.wait(timeout: timeout)
    }

    private func holdFile(_ account: String) -> URL {
        directory.appendingPathComponent("\(account)/hold")
    }
}
