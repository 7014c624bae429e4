import Foundation
import Logging
import ServiceLifecycle
import Shared
import TestSupport
import Testing
import Worker

@Suite("Worker shutdown")
struct WorkerShutdownTests {
    @Test("a stopping worker writes where its jobs' time went: every stage of every job, the bot's own run time under exited")
    func stageTimingsWrittenAtStop() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "nap", argv: ["/bin/sleep", "0.3"], timeoutSeconds: 30))
            let file = fleet.folder.appendingPathComponent("stages.json")
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let worker = try await workers.start("timed", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1"])
                    + ["--stage-timings", file.path])
                var ids: [Int64] = []
                for _ in 0..<4 { ids.append(try await fleet.submit(SubmitJobRequest(bot: "nap", group: "g1"))) }
                for id in ids { #expect(try await fleet.waitForJob(id).state == .succeeded) }
                #expect(await worker.stop())
            }
            let stages = try JSONDecoder().decode([JobStage: LatencyHistogram].self, from: Data(contentsOf: file))
            for stage in JobStage.allCases { #expect(stages[stage]?.count == 4, "\(stage)") }
            let run = try #require(stages[.exited]?.percentile(0.5))
            // The clock starts when the spawn has returned: on a loaded machine the bot may have run a while by then.
            #expect(run >= .milliseconds(200) && run < .seconds(5), "\(run)")
            #expect(try #require(stages[.acked]?.percentile(1)) < .seconds(5))
        }
    }

    @Test("SIGTERM to a botyard-worker process: the short bot finishes, the long one runs until the deadline and is then stopped and handed back, and the worker exits")
    func sigtermToWorkerProcess() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            // The short bot outlasts the moment both have started by seconds, even on a loaded machine,
            // and ends well before the deadline.
            try await fleet.register(bot.bot("short", seconds: 3))
            try await fleet.register(bot.bot("long", seconds: 120))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let deadline = 6
                let worker = try await workers.start("leaving-process", AdmissionTests.workerOptions(
                    host: "h1", accounts: ["robot1:2"]) + ["--shutdown-deadline", String(deadline)])
                let short = try await fleet.submit(SubmitJobRequest(bot: "short", group: "g1"))
                let long = try await fleet.submit(SubmitJobRequest(bot: "long", group: "g1"))
                try await waitUntil(timeout: .seconds(30)) { Set(bot.runs().map(\.jobID)) == [short, long] }

                let stopping = ContinuousClock.now
                let sigtermAt = StampBot.EndWatch.now()
                let exited = await worker.stop(grace: .seconds(30))
                let took = ContinuousClock.now - stopping
                #expect(exited, "still running 30 s after SIGTERM")
                // It waits for the long bot until its deadline, then gives the bot its 1 s stop grace and its 2 s
                // termination grace at most.
                #expect(took >= .seconds(deadline) && took < .seconds(deadline + 1 + 2 + 5), "exited \(took) after SIGTERM")

                #expect(try await fleet.waitForJob(short).state == .succeeded)
                let shortRun = try #require(bot.runs().first { $0.jobID == short })
                #expect(shortRun.end.map { $0 > sigtermAt } == true, "the short bot did not run on past SIGTERM")
                let handedBack = try await fleet.waitForJob(long) { $0.state == .queued }
                #expect(handedBack.history?.last?.reason == "handed back to the queue by leaving-process at shutdown")
                let longRun = try #require(bot.runs().first { $0.jobID == long })
                #expect(longRun.end == nil, "the long bot was not stopped")
                #expect(!isRunning(longRun.pid), "the long bot outlived its worker")
            }
        }
    }

    @Test("on SIGTERM a worker lets short bots finish and hands the rest back when its deadline passes")
    func gracefulShutdown() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "short", argv: ["/bin/sleep", "1"], timeoutSeconds: 60))
            try await fleet.register(CreateBotRequest(name: "long", argv: ["/bin/sleep", "120"], timeoutSeconds: 300,
                                                      stopGraceSeconds: 1))
            let worker = WorkerApplication(configuration: WorkerConfiguration(
                amqpURL: try await fleet.workerURL(host: "host-x"), group: "g1", workerID: "leaving", host: "host-x", accounts: [.init(name: "robot")],
                workDirectory: fleet.folder.appendingPathComponent("leaving"), terminationGrace: .seconds(2),
                shutdownDeadline: .seconds(3)), logger: Fleet.logger)
            let group = ServiceGroup(configuration: .init(services: [worker.service], logger: Fleet.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let short = try await fleet.submit(SubmitJobRequest(bot: "short", group: "g1"))
                let long = try await fleet.submit(SubmitJobRequest(bot: "long", group: "g1"))
                try await fleet.waitForJob(short) { $0.state == .running }
                try await fleet.waitForJob(long) { $0.state == .running }
                let stopping = ContinuousClock.now
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                // Its 3 s deadline, the long bot's 1 s grace and SIGTERM — not the bot's 120 s; loose for a loaded machine.
                #expect(ContinuousClock.now - stopping < .seconds(30))

                #expect(try await fleet.waitForJob(short).state == .succeeded)
                let handedBack = try await fleet.waitForJob(long) { $0.state == .queued }
                #expect(handedBack.history?.last?.reason == "handed back to the queue by leaving at shutdown")
                // The job is back in its queue, for the next worker.
                let connection = try await AMQPConnection.connect(to: fleet.url, name: "inspector", logger: Fleet.logger)
                let channel = try await connection.openChannel()
                #expect(try await channel.inspectQueue(Topology.jobQueue(group: "g1", priority: .normal)).messageCount == 1)
                await connection.close()
            }
        }
    }
}
