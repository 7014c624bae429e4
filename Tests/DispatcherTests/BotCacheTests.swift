import Foundation
import Shared
import Synchronization
import Testing

@testable import Dispatcher

@Suite("Bot cache")
struct BotCacheTests {
    static let first = BotDefinition(name: "invoice", argv: ["/bin/true"], timeoutSeconds: 30)
    static let second = BotDefinition(name: "invoice", argv: ["/bin/false"], timeoutSeconds: 60)

    @Test("a bot is read from the store once, then kept until it changes")
    func readOnceUntilChanged() async {
        let cache = BotCache()
        let reads = Atomic(0)
        func lookUp(_ found: BotDefinition) async -> BotDefinition? {
            await cache.definition(named: "invoice") {
                reads.add(1, ordering: .relaxed)
                return found
            }
        }
        #expect(await lookUp(Self.first) == Self.first)
        #expect(await lookUp(Self.second) == Self.first)
        #expect(reads.load(ordering: .relaxed) == 1)
        cache.changed("invoice")
        #expect(await lookUp(Self.second) == Self.second)
        #expect(reads.load(ordering: .relaxed) == 2)
    }

    @Test("a definition read while a change of the bot commits is not kept")
    func readDuringChangeNotKept() async {
        let cache = BotCache()
        let raced = await cache.definition(named: "invoice") {
            cache.changed("invoice")
            return Self.first
        }
        #expect(raced == Self.first)
        #expect(cache.count == 0)
        #expect(await cache.definition(named: "invoice") { Self.second } == Self.second)
    }

    @Test("an unknown bot is not kept: once registered, it is found")
    func unknownNotKept() async {
        let cache = BotCache()
        #expect(await cache.definition(named: "invoice") { nil } == nil)
        #expect(await cache.definition(named: "invoice") { Self.first } == Self.first)
    }

    @Test("past its limit the cache forgets every bot and reads them again")
    func limit() async {
        let cache = BotCache(limit: 2)
        for index in 0..<5 {
            let bot = BotDefinition(name: "bot\(index)", argv: ["/bin/true"], timeoutSeconds: 30)
            #expect(await cache.definition(named: bot.name) { bot } == bot)
            #expect(cache.count <= 2)
        }
    }

    @Test("the store reads a bot once: a later lookup answers from memory, not from the row")
    func storeAnswersFromMemory() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.first)
            #expect(try await store.bot(named: "invoice") == Self.first)
            // Changed behind the store's back (nothing but `saveBot` changes a bot): not read again.
            try await store.database.write { try $0.execute(sql: "DELETE FROM bots WHERE name = 'invoice'") }
            #expect(try await store.bot(named: "invoice") == Self.first)
        }
    }

    @Test("the store answers with a bot's new definition as soon as saving it returns")
    func storeSeesItsChanges() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.first)
            #expect(try await store.bot(named: "invoice") == Self.first)
            try await store.saveBot(Self.second)
            #expect(try await store.bot(named: "invoice") == Self.second)
            #expect(try await store.bot(named: "payroll") == nil)
        }
    }
}
