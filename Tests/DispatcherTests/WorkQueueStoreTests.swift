import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Work queues in the store")
struct WorkQueueStoreTests {
    static let t0 = Date(timeIntervalSince1970: 2_000_000_000)

    func withQueue(_ definition: WorkQueueDefinition = WorkQueueDefinition(name: "invoices", maxRetries: 1, leaseSeconds: 60),
                   _ body: (BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            _ = try await store.saveQueue(definition, replace: false)
            try await body(store)
        }
    }

    func add(_ store: BotyardStore, _ items: [AddItemRequest], at now: Date = t0) async throws -> [WorkItemSnapshot] {
        guard case .added(let added) = try await store.addItems(items, to: "invoices", at: now) else {
            Issue.record("items not added")
            return []
        }
        return added
    }

    func claim(_ store: BotyardStore, at now: Date = t0) async throws -> ClaimedItem? {
        if case .claimed(let item) = try await store.claimItem(from: "invoices", at: now) { return item }
        return nil
    }

    @Test("claims follow the claim order, and postponed items stay invisible until their time")
    func claimOrderAndPostponed() async throws {
        try await withQueue { store in
            _ = try await add(store, [
                AddItemRequest(reference: "n1"),
                AddItemRequest(reference: "later", priority: .high, postponeUntil: Self.t0.addingTimeInterval(30)),
                AddItemRequest(reference: "low", priority: .low),
                AddItemRequest(reference: "due", dueAt: Self.t0.addingTimeInterval(3600)),
                AddItemRequest(reference: "high", priority: .high),
            ])
            var order: [String] = []
            while let item = try await claim(store) { order.append(item.item.reference ?? "") }
            #expect(order == ["high", "due", "n1", "low"])
            #expect(try await claim(store, at: Self.t0.addingTimeInterval(30))?.item.reference == "later")
        }
    }

    @Test("an expired lease puts the item back (retry counted); the old holder's completion is refused; then abandoned")
    func leaseExpiry() async throws {
        try await withQueue { store in
            _ = try await add(store, [AddItemRequest(reference: "x")])
            let first = try #require(try await claim(store))
            let later = Self.t0.addingTimeInterval(61)
            #expect(try await store.expireLeases(at: later).expired == 1)
            let back = try #require(try await store.item(id: first.item.id))
            #expect(back.item.state == .new && back.item.retryNumber == 1)
            guard case .refused(let code, _) = try await store.settleItem(first.item.id, token: first.leaseToken,
                                                                     .complete(output: nil), at: later) else {
                Issue.record("a late completion was accepted")
                return
            }
            #expect(code == "lease_expired")
            let second = try #require(try await claim(store, at: later))
            #expect(second.item.id == first.item.id && second.leaseToken != first.leaseToken)
            guard case .refused(let superseded, _) = try await store.settleItem(first.item.id, token: first.leaseToken,
                                                                           .complete(output: nil), at: later) else {
                Issue.record("the first lease's token still counts")
                return
            }
            #expect(superseded == "lease_superseded")
            #expect(try await store.item(id: first.item.id)?.item.state == .inProgress, "nothing changed")
            // The second lease runs out too: no retry is left.
            #expect(try await claim(store, at: later.addingTimeInterval(61)) == nil)
            #expect(try await store.item(id: first.item.id)?.item.state == .abandoned)
        }
    }

    @Test("a claim expires run-out leases of its queue first, and an item with no retry left is abandoned")
    func abandoned() async throws {
        try await withQueue(WorkQueueDefinition(name: "invoices", maxRetries: 0, leaseSeconds: 10)) { store in
            _ = try await add(store, [AddItemRequest(reference: "x")])
            let first = try #require(try await claim(store))
            #expect(try await claim(store, at: Self.t0.addingTimeInterval(10)) == nil)
            let item = try #require(try await store.item(id: first.item.id))
            #expect(item.item.state == .abandoned)
            #expect(item.history.map(\.to) == [.new, .inProgress, .abandoned])
        }
    }

    @Test("a system failure retries the item as a new one at the queue's end; a business failure is final")
    func failures() async throws {
        try await withQueue { store in
            _ = try await add(store, [AddItemRequest(payload: .object(["n": .number(1)]), reference: "a"),
                                      AddItemRequest(reference: "b")])
            let a = try #require(try await claim(store))
            guard case .done(let retried) = try await store.settleItem(a.item.id, token: a.leaseToken,
                                                                 .fail(.system, reason: "portal down"), at: Self.t0) else {
                Issue.record("fail refused")
                return
            }
            #expect(retried.state == .retried && retried.failureKind == .system)
            let b = try #require(try await claim(store))
            #expect(b.item.reference == "b")
            let retry = try #require(try await claim(store))
            #expect(retry.item.reference == "a" && retry.item.retryOf == a.item.id && retry.item.retryNumber == 1)
            #expect(retry.item.payload == .object(["n": .number(1)]))
            guard case .done(let failed) = try await store.settleItem(retry.item.id, token: retry.leaseToken,
                                                                .fail(.system, reason: "portal down"), at: Self.t0) else {
                return
            }
            #expect(failed.state == .failed, "no retry left")
            guard case .done(let business) = try await store.settleItem(b.item.id, token: b.leaseToken,
                                                                  .fail(.business, reason: "paid already"), at: Self.t0) else {
                return
            }
            #expect(business.state == .failed && business.failureKind == .business)
            #expect(try await claim(store) == nil)
            #expect(try await store.itemCounts(in: "invoices").counts
                        == ["new": 0, "in-progress": 0, "successful": 0, "failed": 2, "abandoned": 0, "retried": 1])
        }
    }

    @Test("a replaced queue definition counts from the next claim on (the store keeps definitions decoded)")
    func replacedDefinition() async throws {
        try await withQueue { store in
            _ = try await add(store, [AddItemRequest(reference: "a"), AddItemRequest(reference: "b")])
            #expect(try await claim(store)?.leaseExpiresAt == Self.t0.addingTimeInterval(60))
            _ = try await store.saveQueue(WorkQueueDefinition(name: "invoices", leaseSeconds: 120), replace: true)
            #expect(try await claim(store)?.leaseExpiresAt == Self.t0.addingTimeInterval(120))
        }
    }

    @Test("a bulk add is all or nothing: every bad item is named and none is added")
    func bulkAllOrNothing() async throws {
        try await withQueue(WorkQueueDefinition(name: "invoices", uniqueReferences: true)) { store in
            _ = try await add(store, [AddItemRequest(reference: "taken")])
            let huge = JSONValue.string(String(repeating: "x", count: AddItemRequest.maximumPayloadBytes))
            guard case .refused(let problems) = try await store.addItems([
                AddItemRequest(reference: "ok"), AddItemRequest(reference: "taken"), AddItemRequest(reference: "ok"),
                AddItemRequest(payload: huge), AddItemRequest(reference: ""),
            ], to: "invoices") else {
                Issue.record("a bad bulk add was accepted")
                return
            }
            #expect(problems.map(\.description) == [
                "item 2: reference 'taken' is already in queue invoices",
                "item 3: reference 'ok' repeats item 1",
                "item 4: payload takes 65538 bytes, more than 65536",
                "item 5: reference must have 1-128 characters and no NUL byte",
            ])
            #expect(try await store.items(in: "invoices").count == 1)
            let many = (1...3000).map { AddItemRequest(reference: "r\($0)") }
            #expect(try await add(store, many).count == 3000)
        }
    }
}
