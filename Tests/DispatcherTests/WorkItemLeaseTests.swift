import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Work item leases and claim order")
struct WorkItemLeaseTests {
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    static func claimed(retryNumber: Int = 0, token: String = "a") -> WorkItemLease {
        var lease = WorkItemLease(state: .new, retryNumber: retryNumber)
        lease.claim(token: token, at: t0, leaseSeconds: 60)
        return lease
    }

    @Test("a claim holds the item for its lease; the holder can extend it, then complete it")
    func claimExtendComplete() throws {
        var lease = Self.claimed()
        #expect(lease.state == .inProgress && lease.expiresAt == Self.t0.addingTimeInterval(60))
        try lease.extend("a", at: Self.t0.addingTimeInterval(50), leaseSeconds: 60)
        #expect(lease.expiresAt == Self.t0.addingTimeInterval(110))
        try lease.complete("a", at: Self.t0.addingTimeInterval(100))
        #expect(lease.state == .successful)
        #expect(throws: WorkItemLease.Refusal.settled(.successful)) { try lease.complete("a", at: Self.t0) }
    }

    @Test("an expired or superseded token is refused and changes nothing")
    func fencing() throws {
        var lease = Self.claimed()
        #expect(throws: WorkItemLease.Refusal.expired) { try lease.complete("a", at: Self.t0.addingTimeInterval(60)) }
        #expect(lease.expire(at: Self.t0.addingTimeInterval(61), maxRetries: 3) == .backToNew)
        #expect(lease.state == .new && lease.retryNumber == 1)
        #expect(throws: WorkItemLease.Refusal.expired) { try lease.complete("a", at: Self.t0.addingTimeInterval(62)) }
        lease.claim(token: "b", at: Self.t0.addingTimeInterval(70), leaseSeconds: 60)
        let before = lease
        #expect(throws: WorkItemLease.Refusal.superseded) { try lease.complete("a", at: Self.t0.addingTimeInterval(71)) }
        #expect(throws: WorkItemLease.Refusal.superseded) {
            _ = try lease.fail("a", kind: .business, at: Self.t0.addingTimeInterval(71), maxRetries: 3)
        }
        #expect(lease == before)
    }

    @Test("a business failure is final; a system failure is retried while retries are left, then final")
    func failures() throws {
        var business = Self.claimed()
        #expect(try business.fail("a", kind: .business, at: Self.t0, maxRetries: 3) == .failed)
        var system = Self.claimed(retryNumber: 2)
        #expect(try system.fail("a", kind: .system, at: Self.t0, maxRetries: 3) == .retried)
        #expect(system.state == .retried)
        var last = Self.claimed(retryNumber: 3)
        #expect(try last.fail("a", kind: .system, at: Self.t0, maxRetries: 3) == .failed)
    }

    @Test("a lease that ran out puts the item back with its retry counted; with none left it is abandoned")
    func expiry() {
        var lease = Self.claimed(retryNumber: 1)
        #expect(lease.expire(at: Self.t0.addingTimeInterval(59), maxRetries: 1) == nil, "still held")
        #expect(lease.expire(at: Self.t0.addingTimeInterval(60), maxRetries: 1) == .abandoned)
        #expect(lease.state == .abandoned)
    }

    @Test("claims take priority first, then the earliest due date (none last), then the oldest")
    func claimOrder() {
        let day: TimeInterval = 86_400
        let keys: [ClaimOrder.Key] = [
            .init(priority: .normal, dueAt: nil, id: 1),
            .init(priority: .low, dueAt: Self.t0, id: 2),
            .init(priority: .high, dueAt: nil, id: 3),
            .init(priority: .normal, dueAt: Self.t0.addingTimeInterval(day), id: 4),
            .init(priority: .normal, dueAt: Self.t0, id: 5),
            .init(priority: .high, dueAt: nil, id: 6),
        ]
        #expect(keys.sorted(by: ClaimOrder.precedes).map(\.id) == [3, 6, 5, 4, 1, 2])
    }

    @Test("a queue needs a name, retries between 0 and 50, a lease between 1 s and a day")
    func queueValidation() {
        #expect(WorkQueueDefinition(name: "invoices").problems.isEmpty)
        #expect(WorkQueueDefinition(name: "a b", maxRetries: -1, leaseSeconds: 0).problems == [
            "name must be a valid name", "maxRetries must be between 0 and 50", "leaseSeconds must be between 1 and 86400",
        ])
    }
}
