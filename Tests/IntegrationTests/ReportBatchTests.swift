import Foundation
import GRDB
import Shared
import TestSupport
import Testing

@testable import Dispatcher
@testable import Worker

/// A worker's reports that wait for a confirm go to the broker together, and the dispatcher
/// applies each report of such a message once.
@Suite("Report batches")
struct ReportBatchTests {
    /// A job waiting in a queue no worker consumes, and the reports of one run of it as a worker would
    /// send them: its start, and its end with success.
    static func queuedJob(in fleet: Fleet) async throws -> (id: Int64, started: JobEvent, finished: JobEvent) {
        try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"]))
        let id = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "nobody-runs"))
        try await fleet.waitForJob(id) { $0.state == .queued }
        let started = JobEvent(kind: .started, jobID: id, attempt: 1, runID: "run-1", workerID: "w1", host: "h1",
                               account: nil)
        let finished = JobEvent(kind: .finished, jobID: id, attempt: 1, runID: "run-1", workerID: "w1", host: "h1",
                                account: nil, outcome: JobOutcome(result: .succeeded, exitCode: 0, reason: "exit 0"))
        return (id, started, finished)
    }

    /// Publishes `events` to `botyard.events` in one message, as a worker does, and waits for its confirm.
    static func report(_ events: [JobEvent], in fleet: Fleet) async throws {
        let connection = try await AMQPConnection.connect(to: fleet.url, name: "reporter", logger: Fleet.logger)
        let channel = try await connection.openChannel()
        try await channel.enableConfirms()
        try await channel.publish(EventPublisher.message(reporting: events))
        await connection.close()
    }

    /// Jobs of `bot` the dispatcher shows running, in a run that started after `since`.
    static func running(_ bot: String, startedAfter since: Date, in fleet: Fleet) async throws -> Int {
        try await fleet.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE bot = ? AND state = 'running' AND startedAt > ?",
                             arguments: [bot, since]) ?? 0
        }
    }

    @Test("a job.batch message's reports are each applied once: a duplicate inside it changes nothing")
    func dispatcherAppliesBatch() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let (id, started, finished) = try await Self.queuedJob(in: fleet)
            try await Self.report([started, started, finished], in: fleet)

            let job = try await fleet.waitForJob(id)
            #expect(job.state == .succeeded && job.exitCode == 0)
            let steps = (job.history ?? []).map(\.to)
            #expect(steps.filter { $0 == .running }.count == 1, "\(steps)")
            #expect(steps.filter { $0 == .succeeded }.count == 1, "\(steps)")
        }
    }

    @Test("a run's end reported before its start ends the job; the late start runs nothing and changes no state")
    func endBeforeStart() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let (id, started, finished) = try await Self.queuedJob(in: fleet)
            try await Self.report([finished], in: fleet)
            try await fleet.waitForJob(id) { $0.state == .succeeded }
            try await Self.report([started], in: fleet)

            try await waitUntil(timeout: .seconds(10)) { try await fleet.job(id).history?.count == 5 }
            let job = try await fleet.job(id)
            #expect(job.state == .succeeded && job.attempts == 1)
            #expect((job.history ?? []).map(\.to) == [.pending, .queued, .running, .succeeded, .succeeded])
            #expect(job.history?.last?.reason == "attempt 1's start reported after its outcome")
        }
    }

    @Test("a worker kill -9ed mid-batch of reports: all jobs succeed once, none is lost, no attempt is started twice")
    func workerKilledMidBatch() async throws {
        try await Fleet.run(workers: 0) { fleet in
            // Quick jobs keep reports flowing (and batching); the kill waits for slow runs that started less
            // than 1.5 s before, half-way through their 3 s at most: those are cut off, whatever the machine's
            // load, and each runs again. (With 0.2 s bots and a kill once 4 jobs showed running, the kill could
            // come after those runs ended and before the next ones' starts were reported: once, in CI, it cut
            // off none. Quick runs are not counted: one shown running may have ended, its outcome on its way;
            // once, 8 runs of both bots were counted and 7 ran again.)
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"]))
            try await fleet.register(CreateBotRequest(name: "slow", argv: ["/bin/sleep", "3"]))
            // A copy of every `job.batch` the workers publish: proof that reports went together before the kill.
            let connection = try await AMQPConnection.connect(to: fleet.url, name: "inspector", logger: Fleet.logger)
            let channel = try await connection.openChannel()
            let queue = "report-batch-kill-test"
            try await channel.declareQueue(queue)
            try await channel.bindQueue(queue, exchange: Topology.eventsExchange, routingKey: JobEvent.batchRoutingKey)
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let victim = try await workers.start(
                    "batching", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:16"], slots: 16))
                let batch = SubmitJobBatchRequest(jobs: (0..<400).map {
                    SubmitJobRequest(bot: $0.isMultiple(of: 10) ? "slow" : "quick", group: "g1")
                })
                let response = try await fleet.api.send(.post, "/v1/jobs/batch",
                                                        String(decoding: try JSONCodec.encode(batch), as: UTF8.self))
                try #require(response.status == .created, "submitting: \(String(buffer: response.body))")
                let ids = try response.decode(JobBatchCreated.self).jobs.map(\.id)

                var batchesSeen = 0
                var runningAtKill = 0
                try await waitUntil(timeout: .seconds(60)) {
                    while try await channel.get(queue: queue) != nil { batchesSeen += 1 }
                    let succeeded = try await fleet.store.jobCounts()[.succeeded, default: 0]
                    runningAtKill = try await Self.running("slow", startedAfter: Date().addingTimeInterval(-1.5),
                                                           in: fleet)
                    return batchesSeen > 0 && succeeded >= 40 && runningAtKill >= 4
                }
                await victim.kill()
                let endedBeforeKill = try await fleet.store.jobCounts()[.succeeded, default: 0]
                #expect(endedBeforeKill < ids.count, "the worker was killed with jobs left")
                _ = try await workers.start(
                    "successor", AdmissionTests.workerOptions(host: "h2", accounts: ["robot1:16"], slots: 16))

                var runAgain = 0
                for id in ids {
                    let job = try await fleet.waitForJob(id, timeout: .seconds(120))
                    #expect(job.state == .succeeded, "job \(id): \(job.state)")
                    // Changes of state only: a copy of a judged attempt leaves a note (succeeded → succeeded).
                    let changes = (job.history ?? []).filter { $0.from != $0.to }
                    let described = changes.map { "\($0.from?.rawValue ?? "-")→\($0.to.rawValue) #\($0.attempt)" }
                    #expect(changes.filter { $0.to == .succeeded }.count == 1, "job \(id): \(described)")
                    let startedAttempts = changes.filter { $0.to == .running }.map(\.attempt)
                    #expect(Set(startedAttempts).count == startedAttempts.count,
                            "job \(id) started an attempt twice: \(described)")
                    if job.attempts > 1 { runAgain += 1 }
                }
                #expect(runAgain >= runningAtKill, "the runs caught in flight by the kill ran again")
                #expect(try await fleet.store.jobCounts()[.running, default: 0] == 0)
                print("report batches: worker killed after \(batchesSeen) batches and \(endedBeforeKill) of "
                      + "\(ids.count) jobs, with \(runningAtKill) running; \(runAgain) ran again, "
                      + "all \(ids.count) succeeded once")
            }
            await connection.close()
        }
    }

    @Test("60 reports published at once by one publisher reach the broker each once, in fewer messages")
    func publisherBatches() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let connection = try await AMQPConnection.connect(to: fleet.url, name: "inspector", logger: Fleet.logger)
            let channel = try await connection.openChannel()
            let queue = "report-batch-test"
            try await channel.declareQueue(queue)
            try await channel.bindQueue(queue, exchange: Topology.eventsExchange, routingKey: "job.*")

            // Reports on jobs the store does not have: the dispatcher drops them; the test's queue keeps a copy.
            let events = (1...60).map {
                JobEvent(kind: .started, jobID: 1_000_000 + Int64($0), attempt: 1, runID: "run-\($0)",
                         workerID: "w1", host: "h1", account: nil)
            }
            let publisher = EventPublisher(url: fleet.url, logger: Fleet.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for event in events { group.addTask { try await publisher.publish(event, keepTrying: { false }) } }
                try await group.waitForAll()
            }
            await publisher.close()

            var messages = 0
            var received: [String] = []
            while let delivery = try await channel.get(queue: queue) {
                messages += 1
                if delivery.routingKey == JobEvent.batchRoutingKey {
                    received += try JSONCodec.decode([JobEvent].self, from: delivery.body).map(\.eventID)
                } else {
                    received.append(try JSONCodec.decode(JobEvent.self, from: delivery.body).eventID)
                }
                try await delivery.ack()
            }
            await connection.close()
            #expect(received.sorted() == events.map(\.eventID).sorted())
            #expect(messages < events.count, "\(messages) messages for \(events.count) reports")
            print("report batches: \(events.count) reports in \(messages) messages")
        }
    }
}
