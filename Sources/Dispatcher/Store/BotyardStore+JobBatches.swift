import Foundation
import GRDB
import Shared

/// What a batch submission did.
public enum JobBatchResult: Sendable {
    /// Every job stored, in the order sent.
    case submitted([JobSnapshot])
    /// Nothing stored: entries name bots that do not exist, each named (`jobs[2]: no bot named 'x'`).
    case unknownBots([String])
}

extension BotyardStore {
    /// Stores every job of a batch in one transaction — each as ``submit(_:bot:at:)`` would, with
    /// its history and outbox rows — or none of them when an entry names an unknown bot.
    public func submitBatch(_ requests: [SubmitJobRequest], at now: Date = Date()) async throws -> JobBatchResult {
        try await write("submit job batch") { db in
            var bots: [String: BotDefinition] = [:]
            for name in Set(requests.map(\.bot)) {
                if let bot = try BotRecord.fetchOne(db, key: name)?.definition { bots[name] = bot }
            }
            var unknown: [String] = []
            let launches = requests.enumerated().compactMap { index, request -> (SubmitJobRequest, BotDefinition)? in
                guard let bot = bots[request.bot] else {
                    unknown.append("jobs[\(index)]: no bot named '\(request.bot.prefix(64))'")
                    return nil
                }
                return (request, bot)
            }
            guard unknown.isEmpty else { return .unknownBots(unknown) }
            return .submitted(try launches.map { request, bot in
                try Self.insertSubmitted(request, bot: bot, parent: nil, at: now, in: db)
            })
        }
    }
}
