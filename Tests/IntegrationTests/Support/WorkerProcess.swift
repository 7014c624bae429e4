import Foundation
import Shared
import TestSupport

/// A `botyard-worker` process built next to this test binary, started against a test virtual
/// host. Tests stop it by pid: `kill()` as a crash, `stop()` as an operator would.
final class WorkerProcess: @unchecked Sendable {
    // @unchecked: `process` and `log` are set once in init and only read afterwards.
    let workerID: String
    let log: URL
    private let process: Process

    /// Starts `botyard-worker` with the given options (URL, id, log level and heartbeat added).
    init(url: AMQPURL, workerID: String, folder: URL, options: [String]) throws {
        self.workerID = workerID
        log = folder.appendingPathComponent("\(workerID).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process = Process()
        process.executableURL = Self.binaries.appendingPathComponent("botyard-worker")
        process.arguments = ["--amqp-url", url.urlWithPassword, "--worker-id", workerID, "--log-level", "info",
                             "--heartbeat-interval", "1", "--termination-grace", "2",
                             "--work-directory", folder.appendingPathComponent("work").path] + options
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }

    /// What the worker logged so far.
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// `kill -9`: no goodbye, as in a crash.
    func kill() {
        Foundation.kill(pid, SIGKILL)
        waitForExit()
    }

    /// SIGTERM, then SIGKILL if it is still there after `grace`.
    func stop(grace: Duration = .seconds(15)) {
        guard isRunning(pid) else { return waitForExit() }
        Foundation.kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning(pid) && ContinuousClock.now < deadline { usleep(20_000) }
        if isRunning(pid) { Foundation.kill(pid, SIGKILL) }
        waitForExit()
    }

    /// Reaps the child with `waitpid` (Foundation's own wait was seen to miss exits).
    private func waitForExit() {
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 { usleep(10_000) }
    }

    /// The folder of the test binary, where SwiftPM also puts the executables.
    static let binaries: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()
}

/// Runs `body` with the worker processes it starts, and stops every one of them afterwards,
/// also when `body` throws.
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

    func start(_ workerID: String, _ options: [String]) throws -> WorkerProcess {
        let worker = try WorkerProcess(url: url, workerID: workerID, folder: folder, options: options)
        lock.withLock { started.append(worker) }
        return worker
    }

    static func with<T>(url: AMQPURL, folder: URL, _ body: (WorkerProcesses) async throws -> T) async throws -> T {
        let processes = WorkerProcesses(url: url, folder: folder)
        defer { for worker in processes.lock.withLock({ processes.started }) { worker.stop(grace: .seconds(5)) } }
        return try await body(processes)
    }
}
