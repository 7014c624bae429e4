import Foundation
import GRDB
import Shared

/// A row of `groups`: a runner group's settings.
struct GroupRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "groups"

    var name: String
    var maxQueued: Int?
    /// The group's own entries only (JSON), so that a method it never set follows the defaults.
    var launchAdmission: LaunchAdmissionTable
    var updatedAt: Date

    /// A group's settings by name, compiled once per connection and read by position
    /// (``ColumnValues``): every refusable launch reads them, and most groups have none.
    static let byNameSQL = "SELECT name, maxQueued, launchAdmission, updatedAt FROM groups WHERE name = ?"
}

extension GroupRecord {
    /// The group whose values `columns` gives in the order of ``byNameSQL``'s columns.
    init(_ columns: inout some ColumnValues) throws {
        name = try columns.next("name")
        maxQueued = try columns.nextOptional("maxQueued")
        let admission: String = try columns.next("launchAdmission")
        launchAdmission = try Self.databaseJSONDecoder(for: "launchAdmission")
            .decode(LaunchAdmissionTable.self, from: Data(admission.utf8))
        updatedAt = try columns.nextDate("updatedAt")
    }
}

/// The settings of the groups one write reads, each read once: the jobs of a batch go to a few
/// groups, and no other write changes a group's settings in the middle of this one. (Read and
/// decoded for each job of a batch of 1,000, they were 4 % of the dispatcher's CPU.)
struct GroupSettingsReads {
    private var records: [String: GroupRecord?] = [:]

    /// `group`'s settings, nil when it has none of its own.
    mutating func settings(of group: String, in db: Database) throws -> GroupRecord? {
        if let known = records[group] { return known }
        let record = try db.cachedStatement(sql: GroupRecord.byNameSQL)
            .fetchFirst(binding: [group.databaseValue], read: GroupRecord.init)
        records[group] = .some(record)
        return record
    }
}

extension BotyardStore {
    /// Creates or replaces a group's settings, all of them.
    public func saveGroup(_ name: String, settings: GroupSettings, at now: Date = Date()) async throws {
        try await write("save group") { db in
            try GroupRecord(name: name, maxQueued: settings.maxQueued, launchAdmission: settings.launchAdmission,
                            updatedAt: now).save(db)
        }
    }

    /// Groups that have settings, workers or jobs, with their load and live capacity.
    public func groups(at now: Date = Date()) async throws -> [GroupStatus] {
        try await read("list groups") { db in
            let settings = try GroupRecord.fetchAll(db)
            let statuses = try WorkerRecord.fetchAll(db).map { $0.status(at: now) }
            let withJobs = try String.fetchAll(db, sql: "SELECT DISTINCT \"group\" FROM jobs")
            let names = Set(settings.map(\.name) + statuses.map(\.group) + withJobs).sorted()
            return try names.map { name in
                let load = try Self.load(ofGroup: name, in: db)
                let capacity = AdmissionDecision.Capacity(group: name, statuses: statuses)
                let record = settings.first { $0.name == name }
                return GroupStatus(name: name, maxQueued: record?.maxQueued,
                                   launchAdmission: (record?.launchAdmission ?? LaunchAdmissionTable()).effective,
                                   waiting: load.waiting, running: load.running, workers: capacity.workers,
                                   slots: capacity.slots, uiSlots: capacity.uiSlots)
            }
        }
    }

    /// Why a launch of `bot` into `group` is rejected under its admission mode, or nil when it is
    /// taken in; `mode` nil: the group's ``LaunchAdmissionTable`` picks it by `method`. Read in the
    /// transaction that stores the launch, so that two launches never take one free slot.
    static func admissionRejection(of bot: BotDefinition, into group: String, method: LaunchMethod,
                                   mode: AdmissionMode?, at now: Date, in db: Database) throws -> String? {
        var groups = GroupSettingsReads()
        return try admissionRejection(of: bot, into: group, method: method, mode: mode, at: now, groups: &groups,
                                      in: db)
    }

    /// ``admissionRejection(of:into:method:mode:at:in:)`` for one of several launches of a write, which
    /// read each group's settings once (`groups`). The group's load is read for each launch: each
    /// one stored adds to it.
    static func admissionRejection(of bot: BotDefinition, into group: String, method: LaunchMethod,
                                   mode: AdmissionMode?, at now: Date, groups: inout GroupSettingsReads,
                                   in db: Database) throws -> String? {
        let settings = try groups.settings(of: group, in: db)
        let mode = mode ?? (settings?.launchAdmission ?? LaunchAdmissionTable()).mode(for: method)
        let decision = AdmissionDecision(mode: mode, needsUI: bot.needsUI, group: group, maxQueued: settings?.maxQueued)
        guard decision.canRefuse else { return nil }
        let statuses = try WorkerRecord.filter(Column("group") == group).fetchAll(db).map { $0.status(at: now) }
        return decision.rejection(capacity: AdmissionDecision.Capacity(group: group, statuses: statuses),
                                  load: try load(ofGroup: group, in: db))
    }

    private static func load(ofGroup group: String, in db: Database) throws -> AdmissionDecision.Load {
        let rows = try Row.fetchAll(db.cachedStatement(sql: groupLoadSQL), arguments: [group])
        var load = AdmissionDecision.Load()
        for row in rows {
            let count: Int = row["n"]
            let needsUI: Bool = row["needsUI"] ?? false
            switch JobState(rawValue: row["state"]) {
            case .pending, .queued:
                load.waiting += count
                load.starting += count
                if needsUI { load.uiStartingOrRunning += count }
            case .retrying:
                load.waiting += count
            case .running, .paused:
                load.running += count
                if needsUI { load.uiStartingOrRunning += count }
            default:
                break
            }
        }
        return load
    }

    /// A group's live jobs (those in the robot queue hold nothing yet) by state and kind of bot:
    /// it reads the live jobs only, through `jobs_group_state`, however many have ended.
    static let groupLoadSQL = """
        SELECT state, json_extract(botSnapshot, '$.needsUI') AS needsUI, COUNT(*) AS n FROM jobs
        WHERE "group" = ? AND state IN ('pending', 'queued', 'retrying', 'running', 'paused')
          AND id NOT IN (SELECT jobID FROM robot_queue)
        GROUP BY state, needsUI
        """
}
