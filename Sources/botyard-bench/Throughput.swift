import ArgumentParser
import BotyardClient
import Foundation
import Shared
import Synchronization

/// The benchmark table: raw rabbitmq-c, the dispatch path, work-queue claims, end to end, retry timing, memory.
struct Throughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the benchmark and print its table.")

    @OptionGroup var broker: BrokerOptions
    @Option(help: "Messages per raw rabbitmq-c run.") var rawMessages = 20_000
    @Option(help: "Bytes per raw message.") var messageSize = 256
    @Option(help: "Jobs per dispatch-path run.") var dispatchJobs = 2_000
    @Option(help: "Jobs per batch dispatch run, sent as batches of 1,000.") var batchJobs = 10_000
    @Option(help: "No-op jobs per end-to-end run.") var endToEndJobs = 1_000
    @Option(help: "Jobs run one at a time for the idle latency.") var idleJobs = 30
    @Option(help: "Jobs whose first attempt fails, for the retry timing.") var retryJobs = 20
    @Option(help: "Steps of the pipeline whose step-to-step latency is measured.") var pipelineSteps = 11
    @Option(help: "Runs of that pipeline with the dispatcher idle.") var pipelineRuns = 5
    @Flag(inversion: .prefixedNo, help: "Run that pipeline during the end-to-end runs too.")
    var pipelineUnderLoad = true
    @OptionGroup var claims: ClaimOptions
    @Option(help: "Runs of each throughput figure; the table shows the median.") var repeats = 3
    @Option(help: "Worker processes.") var workers = 2
    @Option(help: "Slots per worker.") var slots = 8
    @Option(help: "Python of a virtual environment with Celery: the same end-to-end work runs on Celery too.")
    var celeryPython: String?
    @Option(help: "Celery's bench driver (ops/celery/drive.py).") var celeryDriver = "ops/celery/drive.py"

    func validate() throws {
        let sizes = [rawMessages, messageSize, dispatchJobs, batchJobs, endToEndJobs, idleJobs, retryJobs,
                     pipelineSteps, pipelineRuns, repeats, workers, slots]
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("every size, count and repeat must be positive")
        }
    }

    func run() async throws {
        let url = try AMQPURL(parsing: broker.amqpURL)
        var rows: [(String, String)] = []
        say("raw rabbitmq-c: \(repeats) × \(rawMessages) persistent \(messageSize)-byte messages, quorum queue")
        var publishRates: [Double] = []
        var consumeRates: [Double] = []
        for run in 1...repeats {
            let raw = try RawRabbitMQ(url: url)
            let queue = "bench.raw.\(UUID.random().uuidString.prefix(8))"
            try raw.declareQuorumQueue(queue)
            publishRates.append(try raw.publish(queue: queue, count: rawMessages, size: messageSize, window: 100))
            consumeRates.append(try raw.consume(queue: queue, count: rawMessages, prefetch: 100))
            raw.close()
            say("  run \(run): publish \(Int(publishRates.last!)) msg/s, consume \(Int(consumeRates.last!)) msg/s")
        }
        let rawPublish = median(publishRates)
        rows.append(("raw rabbitmq-c publish, confirm window 100", "\(Int(rawPublish)) msg/s"))
        rows.append(("raw rabbitmq-c consume + ack, prefetch 100", "\(Int(median(consumeRates))) msg/s"))
        let rawDelivery = try measureRawDelivery(url: url)
        say("the bots alone: \(repeats) × \(endToEndJobs) runs of /bin/true, output captured, "
            + "\(workers * slots) threads, no broker")
        var botsAlone: [BotsAlone.Figures] = []
        for run in 1...repeats {
            botsAlone.append(try await BotsAlone(jobs: endToEndJobs, runners: workers * slots).run())
            say("  run \(run): \(Int(botsAlone.last!.jobsPerSecond)) jobs/s, machine CPU "
                + Self.milliseconds(botsAlone.last!.cpuPerJob) + " a job")
        }
        let botsCPU = median(botsAlone.map(\.cpuPerJob))
        say("raw rabbitmq-c end to end: \(repeats) × \(endToEndJobs) jobs, each /bin/true run by one of "
            + "\(workers * slots) threads, its outcome confirmed before its message is acked")
        var rawEndToEndRates: [Double] = []
        var rawCPU: [Duration] = []
        for run in 1...repeats {
            let (rate, cpu) = try await MachineCPU.perJob(of: endToEndJobs) {
                try await RawEndToEnd(url: url, jobs: endToEndJobs, runners: workers * slots).run()
            }
            rawEndToEndRates.append(rate)
            rawCPU.append(cpu)
            say("  run \(run): \(Int(rate)) jobs/s, machine CPU \(Self.milliseconds(cpu)) a job")
        }
        let rawEndToEnd = median(rawEndToEndRates)

        let fleet = try broker.makeFleet()
        defer { fleet.stopAll() }
        let driver = try await fleet.startDispatcher(connections: 32)
        try await driver.register(CreateBotRequest(name: "noop", argv: ["/bin/true"], timeoutSeconds: 60,
                                                   retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
        try await driver.register(CreateBotRequest(
            name: "fails-once", argv: ["/bin/sh", "-c", "test \"$BOTYARD_ATTEMPT\" -ge 2"], timeoutSeconds: 60,
            retry: .fixed(maxAttempts: 2, waitMilliseconds: 1_000)))

        let submitter = SocketSubmitter(port: fleet.port, token: fleet.token)
        let dispatch = DispatchMeasurement(driver: driver, submitter: submitter,
                                           dispatcher: fleet.dispatcher!.processIdentifier)
        say("dispatch path: \(repeats) × \(dispatchJobs) jobs through POST /v1/jobs, 32 connections, until queued "
            + "(no workers)")
        rows.append(("dispatch: submitted through the API until queued (stored + confirmed)",
                     DispatchRun.describe(try await dispatch.runs(repeats, of: dispatchJobs, group: "parked"),
                                          rawPublish: rawPublish)))
        say("dispatch path, batches: \(repeats) × \(batchJobs) jobs through POST /v1/jobs/batch, 1,000 a request, "
            + "2 connections, until queued (no workers)")
        rows.append(("dispatch: batches of 1,000 through the API until queued",
                     DispatchRun.describe(try await dispatch.runs(repeats, of: batchJobs, group: "batched",
                                                                  to: .batches(of: 1_000), connections: 2),
                                          rawPublish: rawPublish)))

        // Before any worker starts: the claimers and the dispatcher have the machine to themselves.
        let claimBench = ClaimThroughput(driver: driver, port: fleet.port,
                                         dispatcher: fleet.dispatcher!.processIdentifier, options: claims)
        rows += try await claimBench.rows(repeats: repeats)

        for index in 0..<workers { try fleet.startWorker(index, group: "bench", slots: slots) }
        _ = try await driver.submit((0..<50).map { _ in SubmitJobRequest(bot: "noop", group: "bench") })
        try await driver.waitFor(timeout: .seconds(60)) { $0.count(.succeeded) >= 50 }

        say("idle latency: \(idleJobs) jobs one at a time")
        var idleLatencies: [Double] = []
        for _ in 0..<idleJobs {
            if let latency = try await Self.startLatencyOfOneJob(driver: driver) { idleLatencies.append(latency) }
        }

        // The pipeline's steps run on a group and worker of their own, so that under load they
        // wait for the dispatcher, not behind the end-to-end backlog for a slot.
        try fleet.startWorker(workers, group: StepLatency.group, slots: 2)
        let chain = StepLatency(driver: driver, steps: pipelineSteps)
        try await chain.define()
        say("step-to-step latency, idle: \(pipelineRuns) runs of a \(pipelineSteps)-step pipeline of /bin/true")
        let idleSteps = try await chain.measure(runs: pipelineRuns)

        say("end to end: \(repeats) × \(endToEndJobs) /bin/true jobs, \(workers) workers × \(slots) slots"
            + (pipelineUnderLoad ? "; the pipeline runs meanwhile" : ""))
        let loading = Atomic<Bool>(pipelineUnderLoad)
        let loadedChain = Task { try await chain.measure(runs: 1_000) { loading.load(ordering: .relaxed) } }
        defer { loading.store(false, ordering: .relaxed) }
        var endToEndRates: [Double] = []
        var endToEndCPU: [Duration] = []
        var loadedLatencies: [Double] = []
        var beyondQueueing: [Double] = []
        for run in 1...repeats {
            let succeededBefore = try await driver.stats().count(.succeeded)
            let bodies = try SocketSubmitter.Endpoint.single.bodies((0..<endToEndJobs).map { _ in
                SubmitJobRequest(bot: "noop", group: "bench")
            })
            let start = ContinuousClock.now
            let (ids, cpu) = try await MachineCPU.perJob(of: endToEndJobs) {
                let ids = try await submitter.submit(bodies)
                try await driver.waitFor(timeout: .seconds(300)) {
                    $0.count(.succeeded) >= succeededBefore + endToEndJobs
                }
                return ids
            }
            endToEndRates.append(Double(endToEndJobs) / (ContinuousClock.now - start).seconds)
            endToEndCPU.append(cpu)
            let ran = try await driver.allJobs(ids: ids)
            for job in ran {
                guard let started = job.startedAt else { continue }
                loadedLatencies.append(started.timeIntervalSince(job.submittedAt) * 1000)
            }
            beyondQueueing += SlotWait.beyondQueueing(ran, slots: slots)
            say("  run \(run): \(Int(endToEndRates.last!)) jobs/s, machine CPU \(Self.milliseconds(cpu)) a job")
        }
        loading.store(false, ordering: .relaxed)
        let loadedSteps = try await loadedChain.value
        let endToEnd = median(endToEndRates)
        let machine = EndToEndCPU(bots: botsCPU, botyard: median(endToEndCPU), raw: median(rawCPU))
        rows.append(("end to end: submit → succeeded, \(workers) workers × \(slots) slots",
                     "\(Int(endToEnd)) jobs/s; machine CPU \(Self.milliseconds(machine.botyard)) a job"))
        rows.append(("raw rabbitmq-c end to end: publish → /bin/true → outcome confirmed → ack, "
                        + "\(workers * slots) threads",
                     String(format: "%.0f jobs/s; Botyard ÷ raw = %.2f; machine CPU %@ a job", rawEndToEnd,
                            endToEnd / rawEndToEnd, Self.milliseconds(machine.raw))))
        rows.append(("the bots alone: /bin/true with its output captured, \(workers * slots) threads, no broker",
                     "\(Int(median(botsAlone.map(\.jobsPerSecond)))) jobs/s; machine CPU "
                        + "\(Self.milliseconds(botsCPU)) a job"))
        rows.append(("raw rabbitmq-c: publish → delivered, one message at a time (p50 / p90 / p99 / max)",
                     Self.describe(rawDelivery)))
        rows.append(("submit → a worker starts it, idle (p50 / p90 / p99 / max)", Self.describe(idleLatencies)))
        rows.append(("submit → a worker starts it, under load (p50 / p90 / p99 / max)", Self.describe(loadedLatencies)))
        rows.append(("the same beyond the wait its worker's slots force (p50 / p90 / p99 / max)",
                     Self.describe(beyondQueueing)))
        rows.append(("pipeline step → next step started, idle (p50 / p90 / p99 / max)", Self.describe(idleSteps)))
        rows.append(("pipeline step → next step started, during the end-to-end runs (p50 / p90 / p99 / max)",
                     Self.describe(loadedSteps)))

        say("retry timing: \(retryJobs) jobs failing their first attempt, wait 1000 ms")
        let retryIDs = try await driver.submit((0..<retryJobs).map { _ in SubmitJobRequest(bot: "fails-once", group: "bench") })
        var lateness: [Double] = []
        let deadline = ContinuousClock.now + .seconds(60)
        var retried = try await driver.allJobs(ids: retryIDs)
        while retried.contains(where: { !$0.state.isTerminal }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            retried = try await driver.allJobs(ids: retryIDs)
        }
        for job in retried {
            let history = job.history ?? []
            guard let waiting = history.first(where: { $0.to == .retrying }),
                  let restarted = history.first(where: { $0.to == .running && $0.attempt == 2 })
            else { continue }
            lateness.append(restarted.at.timeIntervalSince(waiting.at) * 1000 - 1_000)
        }
        let late = Percentiles(lateness)
        rows.append(("retry: restart past its 1000 ms wait (p50 / p99)",
                     String(format: "%.0f / %.0f ms (%d of %d retried)", late.value(50), late.value(99), lateness.count, retryJobs)))

        rows += try await idleWorkerMemory(fleet: fleet, driver: driver)

        let memory = [("dispatcher", ProcessFleet.peakMemoryMiB(fleet.dispatcher))]
            + fleet.workers.sorted { $0.key < $1.key }.map { ("worker \($0.key)", ProcessFleet.peakMemoryMiB($0.value)) }
        rows.append(("peak RSS", memory.map { "\($0.0) \($0.1.map { String(format: "%.0f", $0) } ?? "?") MiB" }
            .joined(separator: ", ")))

        // Each worker writes where its jobs' time went when it stops.
        fleet.stopAll()
        let stages = try fleet.stageTimings()
        for stage in JobStage.allCases {
            rows.append(("worker stage \(stage.title), every job of the bench (p50 / p99 / max)",
                         Self.describe(stages[stage] ?? LatencyHistogram())))
        }

        if let celeryPython {
            rows += try compareWithCelery(python: celeryPython, botyardRate: endToEnd, rawRate: rawEndToEnd,
                                          botyardLatencies: loadedLatencies, machine: machine)
        } else {
            rows.append(machine.row(celery: nil))
        }
        printTable(rows)
    }

    /// The workers' resident memory when their last job ended and once they have been idle long
    /// enough to give back what starting up and their runs used (`--release-memory-after`, 10 s by
    /// default, looked at every 10 s), and how soon the first job after that starts.
    func idleWorkerMemory(fleet: ProcessFleet, driver: Driver) async throws -> [(String, String)] {
        let idle: Duration = .seconds(22)
        say("worker memory: idle for \(Int(idle.seconds)) s")
        let workers = fleet.workers.sorted { $0.key < $1.key }
        let atEnd = workers.map { ProcessFleet.residentMemoryMiB($0.value) }
        try await Task.sleep(for: idle)
        let afterIdle = workers.map { ProcessFleet.residentMemoryMiB($0.value) }
        let firstStart = try await Self.startLatencyOfOneJob(driver: driver).map { String(format: "%.0f ms", $0) }
        func mebibytes(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "?" }
        return [
            ("worker RSS when its last job ended → after \(Int(idle.seconds)) s idle",
             zip(workers, zip(atEnd, afterIdle)).map { worker, memory in
                 "worker \(worker.key) \(mebibytes(memory.0)) → \(mebibytes(memory.1)) MiB"
             }.joined(separator: ", ")),
            ("submit → a worker starts it, the first job after that idleness", firstStart ?? "?"),
        ]
    }

    /// Submits one `/bin/true` job, waits for its end, and returns how long after its submission a
    /// worker started it, in ms (nil when it never started).
    static func startLatencyOfOneJob(driver: Driver) async throws -> Double? {
        let id = try await driver.submit([SubmitJobRequest(bot: "noop", group: "bench")])[0]
        var job = try await driver.client.get("/v1/jobs/\(id)", as: JobSnapshot.self)
        while !job.state.isTerminal {
            try await Task.sleep(for: .milliseconds(5))
            job = try await driver.client.get("/v1/jobs/\(id)", as: JobSnapshot.self)
        }
        return job.startedAt.map { $0.timeIntervalSince(job.submittedAt) * 1000 }
    }

    /// Celery's rows: the same end-to-end work with the same slots on the same broker, and the ratios.
    func compareWithCelery(python: String, botyardRate: Double, rawRate: Double,
                           botyardLatencies: [Double], machine: EndToEndCPU) throws -> [(String, String)] {
        say("Celery: \(repeats) × \(endToEndJobs) tasks running /bin/true, prefork × \(workers * slots), acks late")
        let celery = try CeleryComparison(python: python, driver: celeryDriver)
            .run(amqpURL: broker.amqpURL, tasks: endToEndJobs, concurrency: workers * slots, repeats: repeats)
        let latencies = Percentiles(botyardLatencies)
        return [
            ("Celery end to end: submit → succeeded, prefork × \(workers * slots)",
             String(format: "%.0f tasks/s; Botyard ÷ Celery = %.2f; raw ÷ Celery = %.2f; machine CPU %@ a task",
                    celery.tasksPerSecond, botyardRate / celery.tasksPerSecond, rawRate / celery.tasksPerSecond,
                    Self.milliseconds(celery.machineCPUPerTask))),
            ("Celery submit → a worker starts it, under load (p50 / p99)",
             String(format: "%.1f / %.1f ms (n=%d); Botyard's p99 ÷ Celery's = %.2f", celery.startP50, celery.startP99,
                    celery.tasks, latencies.value(99) / celery.startP99)),
            machine.row(celery: celery.machineCPUPerTask),
        ]
    }

    /// `1.23 ms`, a machine's CPU a job for the table.
    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.2f ms", duration.seconds * 1000)
    }

    /// The broker's floor under the idle submit → start: as many persistent messages as idle
    /// jobs, each published once the one before was delivered, on a quorum queue.
    private func measureRawDelivery(url: AMQPURL) throws -> [Double] {
        say("raw rabbitmq-c: \(idleJobs) messages one at a time, publish → delivered")
        let publisher = try RawRabbitMQ(url: url)
        let consumer = try RawRabbitMQ(url: url)
        defer {
            consumer.close()
            publisher.close()
        }
        let queue = "bench.raw.latency.\(UUID.random().uuidString.prefix(8))"
        try publisher.declareQuorumQueue(queue)
        return try publisher.deliveryLatencies(queue: queue, count: idleJobs, size: messageSize, consumer: consumer)
    }

    static func describe(_ histogram: LatencyHistogram) -> String {
        func milliseconds(_ duration: Duration?) -> Double { (duration?.seconds ?? .nan) * 1000 }
        return String(format: "%.2f / %.2f / %.2f ms (n=%d)", milliseconds(histogram.percentile(0.5)),
                      milliseconds(histogram.percentile(0.99)), milliseconds(histogram.percentile(1)), histogram.count)
    }

    static func describe(_ milliseconds: [Double]) -> String {
        let p = Percentiles(milliseconds)
        return String(format: "%.1f / %.1f / %.1f / %.1f ms (n=%d)", p.value(50), p.value(90), p.value(99), p.max,
                      milliseconds.count)
    }
}
