import Testing

@testable import Shared

@Suite("Publishes waiting for their confirms")
struct PendingPublishesTests {
    /// Publishes tagged 1…`count`, each pending value its tag's name.
    func pending(_ count: UInt64) -> PendingPublishes<String> {
        var pending = PendingPublishes<String>()
        for tag in 1...count { pending.add("m\(tag)", tag: tag) }
        return pending
    }

    @Test("a multiple confirm settles every publish up to its tag, oldest first; the later ones wait")
    func multiple() {
        var publishes = pending(5)
        #expect(publishes.settle(upTo: 3, multiple: true) == ["m1", "m2", "m3"])
        #expect(publishes.count == 2)
        #expect(publishes.settle(upTo: 5, multiple: true) == ["m4", "m5"])
        #expect(publishes.isEmpty)
    }

    @Test("a single confirm settles its publish alone; a multiple confirm later passes over it")
    func singleThenMultiple() {
        var publishes = pending(4)
        #expect(publishes.settle(upTo: 2, multiple: false) == ["m2"])
        #expect(publishes.settle(upTo: 1, multiple: false) == ["m1"])
        #expect(publishes.settle(upTo: 4, multiple: true) == ["m3", "m4"])
    }

    @Test("a confirm of a tag settled already, or never sent, settles nothing; one far ahead stops at the newest")
    func unknownTags() {
        var publishes = pending(3)
        #expect(publishes.settle(upTo: 9, multiple: false).isEmpty)
        #expect(publishes.settle(upTo: 1, multiple: true) == ["m1"])
        #expect(publishes.settle(upTo: 1, multiple: true).isEmpty)
        #expect(publishes.settle(upTo: .max, multiple: true) == ["m2", "m3"])
        publishes.add("m4", tag: 4)
        #expect(publishes.settle(upTo: .max, multiple: true) == ["m4"])
        var none = PendingPublishes<String>()
        #expect(none.settle(upTo: .max, multiple: true).isEmpty)
    }

    @Test("the oldest matching publish is the one changed; dropping the rest hands them over oldest first")
    func updateAndRemoveAll() {
        var publishes = pending(4)
        _ = publishes.settle(upTo: 1, multiple: false)
        publishes.updateOldest(where: { $0.hasPrefix("m") }) { $0 += " returned" }
        publishes.updateOldest(where: { $0 == "m9" }) { $0 += " never" }
        #expect(publishes.removeAll() == ["m2 returned", "m3", "m4"])
        #expect(publishes.isEmpty && publishes.settle(upTo: 4, multiple: true).isEmpty)
    }
}
