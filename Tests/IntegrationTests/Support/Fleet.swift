import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import TestSupport
import Testing
import Worker

@testable import Dispatcher

/// A dispatcher and workers running in this process against a virtual host of the test broker,
/// logged in as the host's least-privilege users (``TestUsers``).
struct Fleet: Sendable {
    /// The virtual host as `guest`, for the test's own look at the broker.
    let url: AMQPURL
    let api: APIClient
    /// The dispatcher's HTTP address, `http://127.0.0.1:<port>`.
    let httpURL: String
    let store: BotyardStore
    let folder: URL
    /// The dispatcher's secrets key: it seals stored credentials, and each group's key is derived from it.
    let secretsKey: SecretKey

    static let logger: Logger = {
        var logger = Logger(label: "botyard.test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a dispatcher (on `databasePath`, else a fresh database) and `workers`
    /// workers of `group`, which hold their runs' start reports for `startReportDelay`. Everything
    /// is stopped when `body` returns.
    static func run(group: String = "g1", workers: Int = 1, slots: Int = 4, url: AMQPURL? = nil,
                    databasePath: String? = nil, startReportDelay: Duration = WorkerConfiguration().startReportDelay,
                    _ body: @escaping @Sendable (Fleet) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let secretsKey = SecretKey.generate()
        let work: @Sendable (AMQPURL) async throws -> Void = { url in
            let users = TestUsers.of(url)
            let dispatcherURL = try await users?.dispatcher(on: url) ?? url
            let hosts = (0..<workers).map { "host\($0)" }
            let workerURL = try await users?.worker(on: url, group: group, hosts: hosts) ?? url
            let dispatcher = try await DispatcherApplication(
                configuration: DispatcherConfiguration(
                    amqpURL: dispatcherURL, databasePath: databasePath ?? folder.appendingPathComponent("botyard.sqlite").path,
                    // Commits that survive a crash of the process, not of the machine: the suite runs
                    // many dispatchers at once on one disk (StoreTests checks that `full` syncs).
                    httpPort: 0, durability: .normal, secretsKey: secretsKey),
                logger: logger)
            try await dispatcher.makeApplication().test(.live) { client in
                try await withThrowingTaskGroup(of: Void.self) { workerTasks in
                    for index in 0..<workers {
                        let configuration = WorkerConfiguration(
                            amqpURL: workerURL, group: group, workerID: "w\(index)-\(UUID().uuidString.prefix(6))",
                            host: hosts[index], accounts: [.init(name: "robot\(index)")], maxConcurrent: slots,
                            workDirectory: folder.appendingPathComponent("worker\(index)"),
                            terminationGrace: .seconds(2), apiURL: client.port.map { "http://127.0.0.1:\($0)" },
                            credentialKey: secretsKey.derived(for: .group(group)), startReportDelay: startReportDelay)
                        workerTasks.addTask { try await WorkerApplication(configuration: configuration, logger: logger).service.run() }
                    }
                    let api = APIClient(client: client, token: try await dispatcher.store.testToken())
                    try await body(Fleet(url: url, api: api, httpURL: "http://127.0.0.1:\(client.port ?? 0)",
                                         store: dispatcher.store, folder: folder,
                                         secretsKey: secretsKey))
                    try await expectJobCountsKept(by: dispatcher.store)
                    workerTasks.cancelAll()
                }
            }
        }
        if let url {
            try await work(url)
        } else {
            try await TestBroker.withVirtualHost { try await work($0) }
        }
    }

    /// Whatever a test did, the store's counts of jobs by state (``JobStateCounts``) equal its
    /// jobs counted row by row, both read in one snapshot.
    private static func expectJobCountsKept(by store: BotyardStore) async throws {
        let (kept, counted) = try await store.database.read { db in
            let kept = try Row.fetchAll(db, sql: "SELECT state, jobs FROM job_state_counts WHERE jobs != 0")
                .reduce(into: [String: Int]()) { $0[$1["state"]] = $1["jobs"] }
            let counted = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS jobs FROM jobs GROUP BY state")
                .reduce(into: [String: Int]()) { $0[$1["state"]] = $1["jobs"] }
            return (kept, counted)
        }
        #expect(kept == counted, "the job counts kept by the store's writes drifted from its jobs")
    }

    /// The virtual host as the user of `group`'s workers, allowed `host` (``TestUsers``).
    func workerURL(group: String = "g1", host: String) async throws -> AMQPURL {
        try await TestUsers.of(url)?.worker(on: url, group: group, hosts: [host]) ?? url
    }

    /// Options that give a worker process `group`'s credential key (in a file of the fleet's folder).
    func credentialKeyOptions(group: String = "g1") throws -> [String] {
        let path = folder.appendingPathComponent("\(group)-\(UUID().uuidString.prefix(6)).key").path
        try secretsKey.derived(for: .group(group)).write(to: path)
        return ["--credential-key-file", path]
    }

    /// Registers a bot through the API.
    func register(_ bot: CreateBotRequest) async throws {
        let response = try await api.send(.post, "/v1/bots", String(decoding: try JSONCodec.encode(bot), as: UTF8.self))
        try #require(response.status == .created, "registering \(bot.name): \(String(buffer: response.body))")
    }

    /// Submits a job through the API and returns its id.
    func submit(_ request: SubmitJobRequest) async throws -> Int64 {
        let response = try await api.send(.post, "/v1/jobs", String(decoding: try JSONCodec.encode(request), as: UTF8.self))
        try #require(response.status == .created, "submitting: \(String(buffer: response.body))")
        return try response.decode(JobCreated.self).id
    }

    func job(_ id: Int64) async throws -> JobSnapshot {
        try await api.send(.get, "/v1/jobs/\(id)").decode(JobSnapshot.self)
    }

    /// Polls the job until `condition` holds; fails the test after `timeout`.
    @discardableResult
    func waitForJob(_ id: Int64, timeout: Duration = .seconds(30),
                    until condition: (JobSnapshot) -> Bool = { $0.state.isTerminal }) async throws -> JobSnapshot {
        let deadline = ContinuousClock.now + timeout
        while true {
            let job = try await job(id)
            if condition(job) { return job }
            guard ContinuousClock.now < deadline else {
                Issue.record("job \(id) still \(job.state.rawValue) after \(timeout): \(job.history ?? [])")
                return job
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

extension Fleet {
    /// Stores a pipeline or workflow definition through the API.
    func define<Definition: FlowDefinition>(_ definition: Definition) async throws {
        let response = try await api.send(.post, "/v1/\(Definition.kind.plural)",
                                           String(decoding: try JSONCodec.encode(definition), as: UTF8.self))
        try #require(response.status == .created, "defining \(definition.name): \(String(buffer: response.body))")
    }

    /// Starts a run of the named pipeline or workflow and returns its id.
    func startRun(_ kind: FlowKind, _ name: String) async throws -> Int64 {
        let response = try await api.send(.post, "/v1/\(kind.plural)/\(name)/runs")
        try #require(response.status == .created, "starting \(name): \(String(buffer: response.body))")
        return try response.decode(FlowRunCreated.self).id
    }

    func run(_ kind: FlowKind, _ id: Int64) async throws -> FlowRunSnapshot {
        try await api.send(.get, "/v1/\(kind.rawValue)-runs/\(id)").decode(FlowRunSnapshot.self)
    }

    /// Sends `pause`, `resume` or `cancel` to a run and returns the answer's run.
    @discardableResult
    func control(_ kind: FlowKind, _ id: Int64, _ command: String) async throws -> FlowRunSnapshot {
        let response = try await api.send(.post, "/v1/\(kind.rawValue)-runs/\(id)/\(command)")
        try #require(response.status == .ok, "\(command) of run \(id): \(String(buffer: response.body))")
        return try response.decode(FlowRunSnapshot.self)
    }

    /// Polls the run until `condition` holds (by default: it ended); fails the test after `timeout`.
    @discardableResult
    func waitForRun(_ kind: FlowKind, _ id: Int64, timeout: Duration = .seconds(30),
                    until condition: (FlowRunSnapshot) -> Bool = { $0.state.isTerminal }) async throws -> FlowRunSnapshot {
        let deadline = ContinuousClock.now + timeout
        while true {
            let run = try await run(kind, id)
            if condition(run) { return run }
            guard ContinuousClock.now < deadline else {
                Issue.record("\(kind.rawValue) run \(id) still \(run.state.rawValue) after \(timeout): \(run.steps ?? [])")
                return run
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
