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

    /// Every column a job is read with: `id`, then ``writtenColumns``.
    static let readColumns = ["id"] + writtenColumns

    /// The job with `id`, through a statement compiled once per connection, its values taken by
    /// position (``ColumnValues``).
    static func fetch(id: Int64, in db: Database) throws -> JobRecord? {
        try db.cachedStatement(sql: fetchByIDSQL).fetchFirst(binding: [id.databaseValue], read: JobRecord.init)
    }

    static let fetchByIDSQL = "SELECT \(readColumns.map { "\"\($0)\"" }.joined(separator: ", ")) FROM jobs WHERE id = ?"

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
        var columns = RowColumns(row, columns: Self.readColumns)
        try self.init(&columns)
    }

    /// The job whose values `columns` gives in the order of ``readColumns``.
    init(_ columns: inout some ColumnValues) throws {
        id = try columns.nextOptional("id")
        bot = try columns.next("bot")
        botSnapshot = try Self.botSnapshots.definition(named: bot, json: columns.next("botSnapshot"))
        group = try columns.next("group")
        priority = try Self.value(columns.next("priority"), "priority")
        environment = try columns.next("environment")
        inputs = try Self.strings(columns.next("inputs"))
        account = try columns.nextOptional("account")
        retryPolicy = try Self.retryPolicies.value(decoding: columns.next("retryPolicy"))
        timeoutSeconds = try columns.next("timeoutSeconds")
        launchMethod = try Self.value(columns.next("launchMethod"), "launchMethod")
        initiator = try columns.next("initiator")
        submittedAt = try columns.nextDate("submittedAt")
        targetHost = try columns.nextOptional("targetHost")
        robotQueuePolicy = try Self.decodeIfPresent(columns.nextOptional("robotQueuePolicy"))
        flowRun = try columns.nextOptional("flowRun")
        flowStep = try columns.nextOptional("flowStep")
        variables = try Self.decodeIfPresent(columns.nextOptional("variables"))
        apiToken = try columns.nextOptional("apiToken")
        triggerQueue = try columns.nextOptional("triggerQueue")
        parentJob = try columns.nextOptional("parentJob")
        state = try Self.value(columns.next("state"), "state")
        attempts = try columns.next("attempts")
        dispatchedAttempt = try columns.next("dispatchedAttempt")
        runID = try columns.nextOptional("runID")
        exitCode = try columns.nextOptional("exitCode")
        outputs = try Self.strings(columns.next("outputs"))
        reason = try columns.nextOptional("reason")
        workerID = try columns.nextOptional("workerID")
        host = try columns.nextOptional("host")
        ranAs = try columns.nextOptional("ranAs")
        startedAt = try columns.nextOptionalDate("startedAt")
        finishedAt = try columns.nextOptionalDate("finishedAt")
        updatedAt = try columns.nextDate("updatedAt")
        dispatchHost = try columns.nextOptional("dispatchHost")
        robotQueueTries = try columns.next("robotQueueTries")
        failureKind = try (columns.nextOptional("failureKind") as String?).map { try Self.value($0, "failureKind") }
    }

    private static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCodec.encode(value), as: UTF8.self)
    }

    /// Most jobs have no inputs or outputs.
    private static func json(_ value: [String: String]) throws -> String {
        value.isEmpty ? "{}" : String(decoding: try JSONCodec.encode(value), as: UTF8.self)
    }

    /// Most jobs have no inputs or outputs: `{}` needs no decoder.
    private static func strings(_ text: String) throws -> [String: String] {
        text == "{}" ? [:] : try JSONCodec.decode([String: String].self, from: Data(text.utf8))
    }

    private static func decodeIfPresent<Value: Decodable>(_ text: String?) throws -> Value? {
        try text.map { try JSONCodec.decode(Value.self, from: Data($0.utf8)) }
    }

    private static func value<Value: RawRepresentable<String>>(_ text: String, _ column: String) throws -> Value {
        guard let value = Value(rawValue: text) else {
            throw StoreError(operation: "read job", message: "unknown \(column) '\(text)'")
        }
        return value
    }
}
