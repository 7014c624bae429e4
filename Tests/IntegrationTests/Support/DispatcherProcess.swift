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

    /// Starts the dispatcher and waits until its HTTP API answers.
    init(url: AMQPURL, database: URL, folder: URL, name: String = "dispatcher") async throws {
        log = folder.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(4)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process = Process()
        process.executableURL = WorkerProcess.binaries.appendingPathComponent("botyard-dispatcher")
        // Tests kill dispatchers, not machines: commits that survive a crash of the process
        // (`normal`) keep a suite of many dispatchers from waiting on one disk's syncs.
        process.arguments = ["--amqp-url", url.urlWithPassword, "--database", database.path, "--port", "0",
                             "--durability", "normal",
                             "--log-level", "info"]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        var port: Int?
        while port == nil {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            port = text.firstMatch(of: /http\.port=(\d+)/).flatMap { Int($0.1) }
            guard port != nil || ContinuousClock.now < deadline, isRunning(process.processIdentifier) else {
                Foundation.kill(process.processIdentifier, SIGKILL)
                throw DispatcherClient.Failure(description: "the dispatcher did not start: \(text)", status: nil)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        client = DispatcherClient(baseURL: URL(string: "http://127.0.0.1:\(port!)")!)
    }

    var pid: pid_t { process.processIdentifier }

    /// `kill -9`: no goodbye, as in a crash.
    func kill() {
        if process.isRunning { Foundation.kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL if it is still there after 15 s. Only a process still running (not
    /// yet reaped) is signalled, so a pid the system gave to another process is never hit.
    func stop() {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        kill()
    }
}
