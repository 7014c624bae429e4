import Foundation
import Shared
import TestSupport
import Worker

/// A `botyard-worker` process built next to this test binary, started against a test virtual
/// host. Tests stop it by pid: `kill()` as a crash, `stop()` as an operator would.
final class WorkerProcess: @unchecked Sendable {
    // @unchecked: `process` and `log` are set once in init and only read afterwards.
    let workerID: String
    let log: URL
    private let process: Process

    /// Starts `botyard-worker` with the given options (URL, id, log level, heartbeat, work
    /// directory, and a shutdown deadline of 1 s unless `options` name one, added).
    ///
    /// The short deadline lets a worker stop its bots and exit well before ``stop(grace:)`` would
    /// kill it, so that stopping a worker never leaves its bots behind.
    init(url: AMQPURL, workerID: String, folder: URL, options: [String]) throws {
        self.workerID = workerID
        log = folder.appendingPathComponent("\(workerID).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process = Process()
        process.executableURL = Self.binaries.appendingPathComponent("botyard-worker")
        // The URL's password in the environment, as operators are told to: not on the command line.
        process.environment = ProcessInfo.processInfo.environment
            .merging(["BOTYARD_AMQP_URL": url.urlWithPassword]) { $1 }
        process.arguments = ["--worker-id", workerID, "--log-level", "info",
                             "--heartbeat-interval", "1", "--termination-grace", "2",
                             "--work-directory", Self.workDirectory(in: folder).path]
            + (options.contains("--shutdown-deadline") ? [] : ["--shutdown-deadline", "1"]) + options
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }

    /// What the worker logged so far.
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// `kill -9`: no goodbye, as in a crash.
    func kill() async {
        Foundation.kill(pid, SIGKILL)
        await waitForExit()
    }

    /// SIGTERM, then SIGKILL if it is still there after `grace`.
    /// - Returns: whether it exited on its own, before `grace` was up.
    @discardableResult
    func stop(grace: Duration = .seconds(15)) async -> Bool {
        guard isRunning(pid) else {
            await waitForExit()
            return true
        }
        Foundation.kill(pid, SIGTERM)
        let exited = await waitUntilGone(timeout: grace) { !isRunning(pid) }
        if !exited { Foundation.kill(pid, SIGKILL) }
        await waitForExit()
        return exited
    }

    /// Reaps the child with `waitpid` (Foundation's own wait was seen to miss exits).
    private func waitForExit() async {
        var status: Int32 = 0
        await waitUntilGone(timeout: .seconds(3600), poll: .milliseconds(10)) { waitpid(pid, &status, WNOHANG) != 0 }
    }

    /// Where worker processes started in `folder` keep their attempt folders (and so the
    /// `BOTYARD_OUTPUT` of every bot they start).
    static func workDirectory(in folder: URL) -> URL {
        folder.appendingPathComponent("work")
    }

    /// The folder of the test binary, where SwiftPM also puts the executables.
    static let binaries: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()
}

/// Runs `body` with the worker processes it starts, and stops every one of them afterwards,
/// also when `body` throws; then kills whatever bot they left running (``LeftoverBots``).
final class WorkerProcesses: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private var started: [WorkerProcess] = []
    private let lock = NSLock()
    let url: AMQPURL
    let folder: URL

    init(url: AMQPURL, folder: URL) {
        self.url = url
        self.folder = folder
    }

    /// Starts a worker as the least-privilege user of the group and host its options name
    /// (``TestUsers``), when the virtual host has them.
    func start(_ workerID: String, _ options: [String]) async throws -> WorkerProcess {
        func option(_ name: String) -> String? {
            options.firstIndex(of: name).flatMap { options.indices.contains($0 + 1) ? options[$0 + 1] : nil }
        }
        let group = option("--group") ?? WorkerConfiguration().group
        let host = option("--host") ?? ProcessInfo.processInfo.hostName
        let userURL = try await TestUsers.of(url)?.worker(on: url, group: group, hosts: [host]) ?? url
        let worker = try WorkerProcess(url: userURL, workerID: workerID, folder: folder, options: options)
        lock.withLock { started.append(worker) }
        return worker
    }

    static func with<T>(url: AMQPURL, folder: URL, _ body: (WorkerProcesses) async throws -> T) async throws -> T {
        let processes = WorkerProcesses(url: url, folder: folder)
        return try await withTeardown {
            try await body(processes)
        } teardown: {
            await withTaskGroup(of: Void.self) { stopping in
                for worker in processes.lock.withLock({ processes.started }) {
                    stopping.addTask { await worker.stop(grace: .seconds(10)) }
                }
            }
            let leftovers = LeftoverBots.kill(under: WorkerProcess.workDirectory(in: folder))
            if !leftovers.isEmpty { print("killed bots left running after the workers stopped: \(leftovers)") }
        }
    }
}
