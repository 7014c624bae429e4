import Dispatcher
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import TestSupport
import Testing
import Worker

/// A dispatcher and workers running in this process against a virtual host of the test broker.
struct Fleet: Sendable {
    let url: AMQPURL
    let api: APIClient
    let store: BotyardStore
    let folder: URL

    static let logger: Logger = {
        var logger = Logger(label: "botyard.test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a dispatcher (on `databasePath`, else a fresh database) and `workers`
    /// workers of `group`. Everything is stopped when `body` returns.
    static func run(group: String = "g1", workers: Int = 1, slots: Int = 4, url: AMQPURL? = nil,
                    databasePath: String? = nil, _ body: @escaping @Sendable (Fleet) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let work: @Sendable (AMQPURL) async throws -> Void = { url in
            let dispatcher = try DispatcherApplication(
                configuration: DispatcherConfiguration(
                    amqpURL: url, databasePath: databasePath ?? folder.appendingPathComponent("botyard.sqlite").path,
                    httpPort: 0),
                logger: logger)
            try await dispatcher.makeApplication().test(.live) { client in
                try await withThrowingTaskGroup(of: Void.self) { workerTasks in
                    for index in 0..<workers {
                        let configuration = WorkerConfiguration(
                            amqpURL: url, group: group, workerID: "w\(index)-\(UUID().uuidString.prefix(6))",
                            host: "host\(index)", accounts: [.init(name: "robot\(index)")], maxConcurrent: slots,
                            workDirectory: folder.appendingPathComponent("worker\(index)"),
                            terminationGrace: .seconds(2))
                        workerTasks.addTask { try await WorkerApplication(configuration: configuration, logger: logger).service.run() }
                    }
                    try await body(Fleet(url: url, api: APIClient(client: client), store: dispatcher.store, folder: folder))
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
