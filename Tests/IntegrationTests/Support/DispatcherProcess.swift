import BotyardClient
import Foundation
import Shared
import TestSupport

/// A `botyard-dispatcher` process built next to this test binary, on a database file and a
/// test virtual host, so that a test can `kill -9` it and start it again on the same store.
final class DispatcherProcess: @unchecked Sendable {
    // @unchecked: every property is set once in init and only read afterwards.
    let log: URL
    let client: DispatcherClient
    private let process: Process

    /// Starts the dispatcher (with `options` added to its arguments) and waits until its HTTP API answers.
    init(url: AMQPURL, database: URL, folder: URL, name: String = "dispatcher", options: [String] = []) async throws {
        log = folder.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(4)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        let executable = WorkerProcess.binaries.appendingPathComponent("botyard-dispatcher")
        // An admin token made as operators make their first: by the documented command.
        let token = try await runCommand(executable, ["create-token", "--database", database.path,
                                                      "--name", "tests \(UUID().uuidString.prefix(8))"])
        guard token.status == 0 else {
            throw DispatcherClient.Failure(description: "create-token failed: \(token.errors)", status: nil)
        }
        process = Process()
        process.executableURL = executable
        // Tests kill dispatchers, not machines: commits that survive a crash of the process
        // (`normal`) keep a suite of many dispatchers from waiting on one disk's syncs.
        // The URL's password in the environment, as operators are told to: not on the command line.
        let userURL = try await TestUsers.of(url)?.dispatcher(on: url) ?? url
        process.environment = ProcessInfo.processInfo.environment
            .merging(["BOTYARD_AMQP_URL": userURL.urlWithPassword]) { $1 }
        process.arguments = ["--database", database.path, "--port", "0",
                             "--durability", "normal",
                             "--log-level", "info"] + options
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        var port: Int?
        while port == nil {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            // `http.port=N` in text logs, `"http.port":"N"` in JSON ones.
            port = text.firstMatch(of: /http\.port"?[=:]"?(\d+)/).flatMap { Int($0.1) }
            guard port != nil || ContinuousClock.now < deadline, isRunning(process.processIdentifier) else {
                Foundation.kill(process.processIdentifier, SIGKILL)
                throw DispatcherClient.Failure(description: "the dispatcher did not start: \(text)", status: nil)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        client = DispatcherClient(baseURL: URL(string: "http://127.0.0.1:\(port!)")!,
                                  bearerToken: token.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    var pid: pid_t { process.processIdentifier }

    /// `kill -9`: no goodbye, as in a crash.
    func kill() async {
        if process.isRunning { Foundation.kill(pid, SIGKILL) }
        await waitUntilGone(timeout: .seconds(3600)) { !process.isRunning }
    }

    /// SIGTERM, then SIGKILL if it is still there after 15 s. Only a process still running (not
    /// yet reaped) is signalled, so a pid the system gave to another process is never hit.
    func stop() async {
        if process.isRunning { process.terminate() }
        await waitUntilGone(timeout: .seconds(15)) { !process.isRunning }
        await kill()
    }
}

/// Runs `body` with the dispatcher processes it starts, and stops those still running
/// afterwards, also when `body` throws.
final class DispatcherProcesses: Sendable {
    private let started = Locked<[DispatcherProcess]>([])
    let url: AMQPURL
    let folder: URL

    private init(url: AMQPURL, folder: URL) {
        self.url = url
        self.folder = folder
    }

    /// Starts a dispatcher on `database` and waits until its HTTP API answers.
    func start(database: URL, name: String = "dispatcher", options: [String] = []) async throws -> DispatcherProcess {
        let dispatcher = try await DispatcherProcess(url: url, database: database, folder: folder, name: name,
                                                     options: options)
        started.withLock { $0.append(dispatcher) }
        return dispatcher
    }

    static func with<T>(url: AMQPURL, folder: URL, _ body: (DispatcherProcesses) async throws -> T) async throws -> T {
        let processes = DispatcherProcesses(url: url, folder: folder)
        return try await withTeardown {
            try await body(processes)
        } teardown: {
            for dispatcher in processes.started.withLock({ $0 }) { await dispatcher.stop() }
        }
    }
}
