import Foundation
import GRDB
import Shared

extension BotyardStore {
    /// Creates or replaces a bot's definition.
    public func saveBot(_ bot: BotDefinition, at now: Date = Date()) async throws {
        defer { botCache.changed(bot.name) }
        try await write("save bot") { db in
            let createdAt = try BotRecord.fetchOne(db, key: bot.name)?.createdAt ?? now
            try BotRecord(name: bot.name, definition: bot, createdAt: createdAt, updatedAt: now).save(db)
        }
    }

    /// The bot's current definition, kept in memory between its changes (``BotCache``).
    public func bot(named name: String) async throws -> BotDefinition? {
        try await botCache.definition(named: name) {
            try await read("read bot") { db in
                let statement = try db.cachedStatement(sql: "SELECT definition FROM bots WHERE name = ?")
                guard let json = try String.fetchOne(statement, arguments: [name]) else { return nil }
                // The same text as the snapshot of the jobs submitted since: decoded once per change.
                return try JobRecord.botSnapshots.definition(named: name, json: json)
            }
        }
    }

    public func bots() async throws -> [BotDefinition] {
        try await read("list bots") { db in try BotRecord.order(Column("name")).fetchAll(db).map(\.definition) }
    }
}
