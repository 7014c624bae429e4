import Foundation
import Shared
import Synchronization

/// Between claims and the ``LeaseKeeper``: a new lease wakes the keeper only when it runs out
/// before the keeper's next planned pass. Leases last minutes and the keeper looks at least once
/// a minute, so claims at hundreds per second would otherwise each cost it a wake-up and a read.
///
/// No lease is missed: while a pass is under way (between ``passStarts()`` and
/// ``passEnds(nextPassAt:)``) every new lease wakes the keeper, since the pass's read may not
/// have seen it; after that, a lease the keeper does not hear about runs out no earlier than its
/// planned pass, which reads it.
final class LeaseAlarm: Sendable {
    let signal = WakeSignal()
    /// The keeper's next planned pass in milliseconds since 1970; `Int64.max` while unknown.
    private let nextPass = Atomic<Int64>(.max)

    init() {}

    /// A claim gave a lease until `expiry`; returns whether that woke the keeper.
    @discardableResult
    func leaseGiven(until expiry: Date) -> Bool {
        guard Self.milliseconds(expiry) < nextPass.load(ordering: .sequentiallyConsistent) else { return false }
        signal.notify()
        return true
    }

    /// The keeper is about to read the leases.
    func passStarts() {
        nextPass.store(.max, ordering: .sequentiallyConsistent)
    }

    /// The keeper has read the leases and sleeps until `nextPassAt` unless woken.
    func passEnds(nextPassAt: Date) {
        nextPass.store(Self.milliseconds(nextPassAt), ordering: .sequentiallyConsistent)
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
