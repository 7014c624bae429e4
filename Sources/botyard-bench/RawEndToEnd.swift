import CRabbitMQ
import CSpawn
import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The end-to-end unit of work with no Botyard code in the way: the ceiling that this machine and
/// broker set for it, against which Botyard's end-to-end figure (and Celery's) is read.
///
/// Each job keeps the guarantees Botyard keeps, and nothing more: one thread publishes the jobs as
/// persistent messages to a quorum queue, confirmed in windows of 100, as a dispatcher without a
/// store would; `runners` threads, each with a connection of its own and a prefetch of 1, take a
/// message, run `/bin/true` with its output captured, publish its exit code as a persistent message
/// to a second quorum queue, and acknowledge the job's message once that outcome is confirmed; one
/// thread takes the outcomes. The clock runs from the first publish to the last outcome taken.
struct RawEndToEnd: Sendable {
    let url: AMQPURL
    let jobs: Int
    let runners: Int

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the jobs once on fresh queues; returns jobs per second.
    func run() async throws -> Double {
        let name = "bench.raw.e2e.\(UUID.random().uuidString.prefix(8))"
        let (jobQueue, outcomeQueue) = (name + ".jobs", name + ".outcomes")
        let setup = try RawRabbitMQ(url: url)
        try setup.declareQuorumQueue(jobQueue)
        try setup.declareQuorumQueue(outcomeQueue)
        setup.close()

        let stop = StopFlag()
        // Every runner is in place (or has failed) before the clock starts.
        let ready = DispatchSemaphore(value: 0)
        return try await withThrowingTaskGroup(of: Double?.self) { group in
            for _ in 0..<runners {
                group.addTask {
                    try await onThread { try runJobs(from: jobQueue, reportingTo: outcomeQueue, until: stop,
                                                     ready: ready) }
                    return nil
                }
            }
            group.addTask {
                try await onThread {
                    for _ in 0..<runners { ready.wait() }
                    defer { stop.raise() }
                    return try takeOutcomes(from: outcomeQueue, ofJobsPublishedTo: jobQueue, unless: stop)
                }
            }
            var rate: Double?
            do {
                for try await result in group where result != nil { rate = result }
            } catch {
                // The others would wait for jobs or outcomes that never come.
                stop.raise()
                throw error
            }
            return rate!
        }
    }

    /// Set once the outcomes are all in, or something failed: every thread ends.
    private final class StopFlag: Sendable {
        private let raised = Atomic<Bool>(false)
        var isRaised: Bool { raised.load(ordering: .relaxed) }
        func raise() { raised.store(true, ordering: .relaxed) }
    }

    /// Starts the clock, publishes the jobs and takes their outcomes; returns jobs per second.
    private func takeOutcomes(from outcomeQueue: String, ofJobsPublishedTo jobQueue: String,
                              unless stop: StopFlag) throws -> Double {
        let collector = try RawRabbitMQ(url: url)
        defer { collector.close() }
        try collector.startConsuming(outcomeQueue, prefetch: 100)
        let publisher = try RawRabbitMQ(url: url)
        defer { publisher.close() }
        let start = ContinuousClock.now
        _ = try publisher.publish(queue: jobQueue, count: jobs, size: 256, window: 100)
        var taken = 0
        var lastTaken = ContinuousClock.now
        while taken < jobs {
            guard !stop.isRaised else { throw Failure(description: "a runner failed") }
            guard let tag = try collector.receive(timeout: .seconds(1)) else {
                guard ContinuousClock.now - lastTaken < .seconds(60) else {
                    throw Failure(description: "no outcome came for 60 s (\(taken) of \(jobs) taken)")
                }
                continue
            }
            try collector.ack(tag)
            taken += 1
            lastTaken = ContinuousClock.now
        }
        return Double(jobs) / (ContinuousClock.now - start).seconds
    }

    /// A slot's part: takes a job, runs it, publishes its outcome, and acknowledges the job once the
    /// outcome is confirmed; until `stop`. Signals `ready` once it consumes, or once it failed to.
    private func runJobs(from jobQueue: String, reportingTo outcomeQueue: String, until stop: StopFlag,
                         ready: DispatchSemaphore) throws {
        var signalled = false
        defer { if !signalled { ready.signal() } }
        let runner = try RawRabbitMQ(url: url)
        defer { runner.close() }
        try runner.startConsuming(jobQueue, prefetch: 1)
        try runner.selectConfirms()
        let routingKey = runner.bytes(outcomeQueue)
        ready.signal()
        signalled = true
        while !stop.isRaised {
            guard let tag = try runner.receive(timeout: .milliseconds(100)) else { continue }
            let exitCode = try Self.runTrue()
            try runner.publish(Array("{\"exitCode\":\(exitCode)}".utf8), routingKey: routingKey)
            _ = try runner.nextConfirm()
            try runner.ack(tag)
        }
    }

    /// Runs `/bin/true` with stdin from `/dev/null` and its stdout and stderr read to their end
    /// through a pipe, as Celery's task does (`subprocess.run(..., capture_output=True)`); returns
    /// its exit code.
    static func runTrue() throws -> Int32 {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw Failure(description: "pipe: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        // The pipes of the other runners' jobs, and this one's own ends, stay out of the child.
        botyard_spawn_add_closefrom(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(argv[0]) }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/true", &actions, nil, argv, environ)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard spawned == 0 else { throw Failure(description: "posix_spawn /bin/true: \(spawned)") }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while read(pipe[0], &buffer, buffer.count) > 0 {}
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xFF
    }
}
