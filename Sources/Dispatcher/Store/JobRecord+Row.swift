import Foundation
import GRDB
import Shared

/// A job row written and read column by column: every job path writes and reads this record,
/// and GRDB's `Codable` route (a keyed container per record, a JSON encoder per nested value)
/// was the largest part of the store's one writer's time. Nested values are JSON text, as that
/// route wrote them; the bot's snapshot is encoded and decoded once per change of the bot.
extension JobRecord {
    /// Bot snapshots as last written or read, by bot name.
    static let botSnapshots = DecodedDefinitions<BotDefinition>()

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["bot"] = bot
        container["botSnapshot"] = try Self.botSnapshots.json(of: botSnapshot, named: bot)
        container["group"] = group
        container["priority"] = priority.rawValue
        container["environment"] = environment
        container["inputs"] = try Self.json(inputs)
        container["account"] = account
        container["state"] = state.rawValue
        container["attempts"] = attempts
        container["dispatchedAttempt"] = dispatchedAttempt
        container["runID"] = runID
        container["retryPolicy"] = try Self.json(retryPolicy)
        container["timeoutSeconds"] = timeoutSeconds
        container["launchMethod"] = launchMethod.rawValue
        container["initiator"] = initiator
        container["exitCode"] = exitCode
        container["outputs"] = try Self.json(outputs)
        container["reason"] = reason
        container["workerID"] = workerID
        container["host"] = host
        container["ranAs"] = ranAs
        container["submittedAt"] = submittedAt
        container["startedAt"] = startedAt
        container["finishedAt"] = finishedAt
        container["updatedAt"] = updatedAt
        container["targetHost"] = targetHost
        container["dispatchHost"] = dispatchHost
        container["robotQueuePolicy"] = try robotQueuePolicy.map(Self.json)
        container["robotQueueTries"] = robotQueueTries
        container["failureKind"] = failureKind?.rawValue
        container["flowRun"] = flowRun
        container["flowStep"] = flowStep
        container["variables"] = try variables.map(Self.json)
        container["apiToken"] = apiToken
        container["triggerQueue"] = triggerQueue
        container["parentJob"] = parentJob
    }

    init(row: Row) throws {
        id = row["id"]
        bot = row["bot"]
        botSnapshot = try Self.botSnapshots.definition(named: bot, json: row["botSnapshot"])
        group = row["group"]
        priority = try Self.value(row, "priority")
        environment = row["environment"]
        inputs = try Self.decode(row, "inputs")
        account = row["account"]
        state = try Self.value(row, "state")
        attempts = row["attempts"]
        dispatchedAttempt = row["dispatchedAttempt"]
        runID = row["runID"]
        retryPolicy = try Self.decode(row, "retryPolicy")
        timeoutSeconds = row["timeoutSeconds"]
        launchMethod = try Self.value(row, "launchMethod")
        initiator = row["initiator"]
        exitCode = row["exitCode"]
        outputs = try Self.decode(row, "outputs")
        reason = row["reason"]
        workerID = row["workerID"]
        host = row["host"]
        ranAs = row["ranAs"]
        submittedAt = row["submittedAt"]
        startedAt = row["startedAt"]
        finishedAt = row["finishedAt"]
        updatedAt = row["updatedAt"]
        targetHost = row["targetHost"]
        dispatchHost = row["dispatchHost"]
        robotQueuePolicy = try Self.decodeIfPresent(row, "robotQueuePolicy")
        robotQueueTries = row["robotQueueTries"]
        failureKind = try (row["failureKind"] as String?).map { try Self.value($0, "failureKind") }
        flowRun = row["flowRun"]
        flowStep = row["flowStep"]
        variables = try Self.decodeIfPresent(row, "variables")
        apiToken = row["apiToken"]
        triggerQueue = row["triggerQueue"]
        parentJob = row["parentJob"]
    }

    private static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCodec.encode(value), as: UTF8.self)
    }

    private static func decode<Value: Decodable>(_ row: Row, _ column: String) throws -> Value {
        let text: String = row[column]
        return try JSONCodec.decode(Value.self, from: Data(text.utf8))
    }

    private static func decodeIfPresent<Value: Decodable>(_ row: Row, _ column: String) throws -> Value? {
        guard let text = row[column] as String? else { return nil }
        return try JSONCodec.decode(Value.self, from: Data(text.utf8))
    }

    private static func value<Value: RawRepresentable<String>>(_ row: Row, _ column: String) throws -> Value {
        try value(row[column], column)
    }

    private static func value<Value: RawRepresentable<String>>(_ text: String, _ column: String) throws -> Value {
        guard let value = Value(rawValue: text) else {
            throw StoreError(operation: "read job", message: "unknown \(column) '\(text)'")
        }
        return value
    }
}
