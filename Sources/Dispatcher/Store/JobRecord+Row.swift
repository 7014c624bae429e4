import Foundation
import GRDB
import Shared

/// A job row written and read column by column: every job path writes and reads this record,
/// and GRDB's `Codable` route (a keyed container per record, a JSON encoder per nested value)
/// was the largest part of the store's one writer's time. Nested values are JSON text, as that
/// route wrote them; the bot's snapshot is encoded and decoded once per change of the bot.
extension JobRecord {
    /// Bot definitions as last written or read (in a job's snapshot or the bot's own row), by bot name.
    static let botSnapshots = DecodedDefinitions<BotDefinition>()
    /// Retry policies as last read or written: most jobs carry their bot's.
    static let retryPolicies = RecentJSONValues<RetryPolicy>()

    /// The columns fixed when the job is stored: its bot's snapshot, inputs, retry policy, who
    /// launched it… (a requeued job is a new row). In the order of ``identityValues()``.
    static let identityColumns = [
        "bot", "botSnapshot", "group", "priority", "environment", "inputs", "account", "retryPolicy", "timeoutSeconds",
        "launchMethod", "initiator", "submittedAt", "targetHost", "robotQueuePolicy", "flowRun", "flowStep",
        "variables", "apiToken", "triggerQueue", "parentJob",
    ]

    /// The columns a job's life changes: state, attempts, the run, its outcome, where it ran. An
    /// update writes these only, and leaves the others and their JSON alone. In the order of
    /// ``lifecycleValues()``.
    static let lifecycleColumns = [
        "state", "attempts", "dispatchedAttempt", "runID", "exitCode", "outputs", "reason", "workerID", "host", "ranAs",
        "startedAt", "finishedAt", "updatedAt", "dispatchHost", "robotQueueTries", "failureKind",
    ]

    /// Every column a row is written with, `id` aside, in the order of ``databaseValues()``.
    static let writtenColumns = identityColumns + lifecycleColumns

    /// The INSERT of a new job, `id` left to SQLite.
    static let insertSQL = """
        INSERT INTO jobs (\(writtenColumns.map { "\"\($0)\"" }.joined(separator: ", ")))
        VALUES (\(writtenColumns.map { _ in "?" }.joined(separator: ", ")))
        """

    /// The UPDATE of a job's ``lifecycleColumns``.
    static let updateSQL = """
        UPDATE jobs SET \(lifecycleColumns.map { "\"\($0)\" = ?" }.joined(separator: ", ")) WHERE id = ?
        """

    /// The row's values (JSON text for nested values, dates as the database stores them), in
    /// the order of ``writtenColumns``.
    func databaseValues() throws -> [DatabaseValue] {
        try identityValues() + lifecycleValues()
    }

    private func identityValues() throws -> [DatabaseValue] {
        [
            bot.databaseValue, try Self.botSnapshots.json(of: botSnapshot, named: bot).databaseValue,
            group.databaseValue, priority.rawValue.databaseValue, environment.databaseValue,
            try Self.json(inputs).databaseValue, account.databaseValue,
            try Self.retryPolicies.text(encoding: retryPolicy).databaseValue,
            timeoutSeconds.databaseValue, launchMethod.rawValue.databaseValue, initiator.databaseValue,
            submittedAt.storedValue, targetHost.databaseValue, try robotQueuePolicy.map(Self.json).databaseValue,
            flowRun.databaseValue, flowStep.databaseValue, try variables.map(Self.json).databaseValue,
            apiToken.databaseValue, triggerQueue.databaseValue, parentJob.databaseValue,
        ]
    }

    private func lifecycleValues() throws -> [DatabaseValue] {
        [
            state.rawValue.databaseValue, attempts.databaseValue, dispatchedAttempt.databaseValue, runID.databaseValue,
            exitCode.databaseValue, try Self.json(outputs).databaseValue, reason.databaseValue, workerID.databaseValue,
            host.databaseValue, ranAs.databaseValue, startedAt?.storedValue ?? .null, finishedAt?.storedValue ?? .null,
            updatedAt.storedValue, dispatchHost.databaseValue, robotQueueTries.databaseValue,
            failureKind?.rawValue.databaseValue ?? .null,
        ]
    }

    /// The job with `id`, through a statement compiled once per connection.
    static func fetch(id: Int64, in db: Database) throws -> JobRecord? {
        try JobRecord.fetchOne(db.cachedStatement(sql: fetchByIDSQL), arguments: [id])
    }

    static let fetchByIDSQL = "SELECT * FROM jobs WHERE id = ?"

    /// Writes the row's ``lifecycleColumns`` back, through a statement compiled once per connection;
    /// a job that left `stored`, the state its row holds, is counted in its new one (``JobStateCounts``).
    func updateRow(from stored: JobState, in db: Database) throws {
        try db.cachedStatement(sql: Self.updateSQL)
            .execute(binding: try lifecycleValues() + [id.databaseValue])
        try JobStateCounts.move(from: stored, to: state, in: db)
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        for (column, value) in zip(Self.writtenColumns, try databaseValues()) { container[column] = value }
    }

    init(row: Row) throws {
        id = row["id"]
        bot = row["bot"]
        botSnapshot = try Self.botSnapshots.definition(named: bot, json: row["botSnapshot"])
        group = row["group"]
        priority = try Self.value(row, "priority")
        environment = row["environment"]
        inputs = try Self.strings(row, "inputs")
        account = row["account"]
        state = try Self.value(row, "state")
        attempts = row["attempts"]
        dispatchedAttempt = row["dispatchedAttempt"]
        runID = row["runID"]
        retryPolicy = try Self.retryPolicies.value(decoding: row["retryPolicy"])
        timeoutSeconds = row["timeoutSeconds"]
        launchMethod = try Self.value(row, "launchMethod")
        initiator = row["initiator"]
        exitCode = row["exitCode"]
        outputs = try Self.strings(row, "outputs")
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

    /// Most jobs have no inputs or outputs.
    private static func json(_ value: [String: String]) throws -> String {
        value.isEmpty ? "{}" : String(decoding: try JSONCodec.encode(value), as: UTF8.self)
    }

    /// Most jobs have no inputs or outputs: `{}` needs no decoder.
    private static func strings(_ row: Row, _ column: String) throws -> [String: String] {
        let text: String = row[column]
        return text == "{}" ? [:] : try JSONCodec.decode([String: String].self, from: Data(text.utf8))
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
