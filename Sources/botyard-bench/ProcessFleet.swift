import BotyardClient
import Foundation
import Shared

/// Dispatcher and worker processes started from the release build next to this program.
///
/// They log in with `amqpURL`, unless `BOTYARD_DISPATCHER_AMQP_URL` or `BOTYARD_WORKER_AMQP_URL`
/// name their own broker users (ops/soak gives them least-privilege ones).
final class ProcessFleet {
    let folder: URL
    let amqpURL: String
    let port: Int
    /// `--durability` of the dispatcher.
    var durability = "full"
    private(set) var dispatcher: Process?
    /// The bench's admin token, made in the dispatcher's store by `botyard-dispatcher create-token`
    /// before its first start (the store, and the token with it, outlives restarts).
    private(set) var token: String?
    private(set) var workers: [Int: Process] = [:]
    private let binaries: URL

    init(folder: URL, amqpURL: String, port: Int) {
        self.folder = folder
        self.amqpURL = amqpURL
        self.port = port
        self.binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    func startDispatcher() throws {
        if token == nil { token = try createToken() }
        dispatcher = try launch("botyard-dispatcher", [
            "--database", databasePath,
            "--port", String(port), "--log-level", "warning", "--durability", durability,
        ], log: "dispatcher.log")
    }

    private var databasePath: String { folder.appendingPathComponent("botyard.sqlite").path }

    /// An admin token, made as an operator makes the first one.
    private func createToken() throws -> String {
        let file = folder.appendingPathComponent("admin.token")
        let maker = try launch("botyard-dispatcher", ["create-token", "--database", databasePath, "--name", "bench",
                                                      "--output", file.path], log: "create-token.log")
        guard Self.waitForExit(maker) == 0, let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw DispatcherClient.Failure(description: "botyard-dispatcher create-token failed: see "
                + folder.appendingPathComponent("create-token.log").path, status: nil)
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A client of the dispatcher holding the bench's token.
    func client(connections: Int) -> DispatcherClient {
        DispatcherClient(baseURL: baseURL, connections: connections, bearerToken: token)
    }

    /// Starts worker `index` serving `accounts` (`NAME` or `NAME:LIMIT`; default: one account, `robot<index>`).
    func startWorker(_ index: Int, group: String, slots: Int, accounts: [String]? = nil) throws {
        workers[index] = try launch("botyard-worker", [
            "--group", group, "--worker-id", "bench-\(index)", "--host", "host-\(index)",
            "--max-concurrent", String(slots), "--accounts",
        ] + (accounts ?? ["robot\(index)"]) + [
            "--work-directory", folder.appendingPathComponent("worker-\(index)").path, "--log-level", "warning",
            "--termination-grace", "2", "--stage-timings", stageTimingsFile(of: index).path,
        ], log: "worker-\(index).log")
    }

    private func stageTimingsFile(of index: Int) -> URL {
        folder.appendingPathComponent("stages-\(index).json")
    }

    /// How long jobs spent in each stage, over every worker started so far that has stopped
    /// (a worker writes its figures when it stops).
    func stageTimings() throws -> [JobStage: LatencyHistogram] {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("stages-") }
        var merged: [JobStage: LatencyHistogram] = [:]
        for file in files {
            let stages = try JSONDecoder().decode([JobStage: LatencyHistogram].self, from: Data(contentsOf: file))
            for (stage, histogram) in stages { merged[stage, default: LatencyHistogram()].merge(histogram) }
        }
        return merged
    }

    /// `kill -9`: no chance to clean up, as in a crash.
    func killWorker(_ index: Int) {
        if let process = workers.removeValue(forKey: index) {
            kill(process.processIdentifier, SIGKILL)
            Self.waitForExit(process)
        }
    }

    /// Starts the dispatcher and returns a driver for it once it answers, with `connections` to it.
    func startDispatcher(connections: Int) async throws -> Driver {
        try startDispatcher()
        let driver = Driver(client: client(connections: connections))
        try await driver.waitUntilHealthy()
        return driver
    }

    /// SIGTERM: the dispatcher finishes what it was doing and closes its store.
    func stopDispatcher() {
        if let dispatcher {
            dispatcher.terminate()
            Self.waitForExit(dispatcher)
        }
        dispatcher = nil
    }

    func killDispatcher() {
        if let dispatcher {
            kill(dispatcher.processIdentifier, SIGKILL)
            Self.waitForExit(dispatcher)
        }
        dispatcher = nil
    }

    /// Stops everything with SIGTERM (graceful), SIGKILL after 15 s.
    func stopAll() {
        let processes = Array(workers.values) + (dispatcher.map { [$0] } ?? [])
        for process in processes where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(15)
        for process in processes {
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        workers = [:]
        dispatcher = nil
    }

    /// Waits for a child to end and returns its exit code. Foundation's `waitUntilExit()` was
    /// seen here to miss the end of a child (a zombie, waited on forever) when children exit
    /// close together, so this polls `waitpid` itself, and Foundation's record when Foundation
    /// reaped the child first.
    @discardableResult
    static func waitForExit(_ process: Process) -> Int32 {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(process.processIdentifier, &status, WNOHANG)
            if reaped == process.processIdentifier { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            if reaped < 0 && errno == ECHILD {
                while process.isRunning { usleep(10_000) }
                return process.terminationStatus
            }
            usleep(20_000)
        }
    }

    /// Peak resident memory (VmHWM) of a process, in MiB.
    static func peakMemoryMiB(_ process: Process?) -> Double? {
        process.flatMap { peakMemoryMiB(pid: $0.processIdentifier) }
    }

    /// Peak resident memory (VmHWM) of any process, in MiB.
    static func peakMemoryMiB(pid: Int32) -> Double? {
        ProcessMemory.residentKiB(of: pid).map { Double($0.peak) / 1024 }
    }

    /// Resident memory now (VmRSS) of a process, in MiB.
    static func residentMemoryMiB(_ process: Process?) -> Double? {
        process.flatMap { ProcessMemory.residentKiB(of: $0.processIdentifier) }.map { Double($0.now) / 1024 }
    }

    private func launch(_ name: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(name)
        process.arguments = arguments
        let environment = ProcessInfo.processInfo.environment
        let url = environment[name == "botyard-worker" ? "BOTYARD_WORKER_AMQP_URL" : "BOTYARD_DISPATCHER_AMQP_URL"]
            ?? amqpURL
        // In the environment: a command line (and the password in it) is visible to every user of the host.
        process.environment = environment.merging(["BOTYARD_AMQP_URL": url]) { $1 }
        guard FileManager.default.createFile(atPath: folder.appendingPathComponent(log).path, contents: nil) else {
            throw DispatcherClient.Failure(description: "cannot create \(log) in \(folder.path)", status: nil)
        }
        let handle = try FileHandle(forWritingTo: folder.appendingPathComponent(log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }
}
