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
    ///
    /// As for a single submission, the bots are found (``bot(named:)``) and the rows prepared before
    /// the transaction, so that the store's one writer only binds them.
    public func submitBatch(_ requests: [SubmitJobRequest], at now: Date = Date()) async throws -> JobBatchResult {
        var bots: [String: BotDefinition] = [:]
        for name in Set(requests.map(\.bot)) {
            if let bot = try await bot(named: name) { bots[name] = bot }
        }
        var jobs: [PreparedJob] = []
        var unknown: [String] = []
        for (index, request) in requests.enumerated() {
            guard let bot = bots[request.bot] else {
                unknown.append("jobs[\(index)]: no bot named '\(request.bot.prefix(64))'")
                continue
            }
            jobs.append(try Self.newJob(request, bot: bot, parent: nil, at: now))
        }
        guard unknown.isEmpty else { return .unknownBots(unknown) }
        return .submitted(try await write("submit job batch") { [jobs] db in
            var groups = GroupSettingsReads()
            return try JobStateCounts.counting(in: db) { counts in
                try zip(jobs, requests).map { job, request in
                    try Self.insertSubmitted(job, request: request, groups: &groups, counts: &counts, in: db)
                }
            }
        })
    }
}
