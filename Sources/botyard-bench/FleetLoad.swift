import ArgumentParser
import BotyardClient
import Foundation
import Shared

/// `botyard-bench fleet`: a steady load as a big fleet makes it — many accounts over several
/// worker processes, jobs arriving at a fixed rate, heartbeats on — and what each process spends
/// on it: CPU per job and as a share of a core, and memory.
struct FleetLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet", abstract: "Measure CPU per job and memory of every process under a steady fleet load.")

    @OptionGroup var broker: BrokerOptions
    @Option(help: "Worker processes.") var workers = 10
    @Option(help: "Accounts per worker, one bot at a time each.") var accountsPerWorker = 100
    @Option(help: "Jobs submitted per second, evenly spaced.") var rate = 16.7
    @Option(help: "Seconds each bot runs.") var botSeconds = 5
    @Option(help: "Seconds of load before the measurement starts.") var warmUp = 20
    @Option(help: "Seconds measured.") var seconds = 60
    @Option(help: "Seconds measured with the fleet idle (heartbeats only) before the load.") var idleSeconds = 15
    @Option(help: "The broker's pid file, to measure its CPU too.") var brokerPidFile: String?
    @Flag(help: "Every job a launch for one account, through the robot queue (each account in turn).")
    var targeted = false

    func validate() throws {
        guard workers > 0, accountsPerWorker > 0, rate > 0, botSeconds >= 0, warmUp >= 0, seconds > 0, idleSeconds > 0
        else { throw ValidationError("workers, accounts, rate and the measured seconds must be positive") }
    }

    func run() async throws {
        let fleet = try broker.makeFleet()
        defer { fleet.stopAll() }
        let driver = try await fleet.startDispatcher(connections: 8)
        try await driver.register(CreateBotRequest(name: "robot-task", argv: ["/bin/sleep", String(botSeconds)],
                                                   timeoutSeconds: botSeconds + 60,
                                                   retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
        let accounts = workers * accountsPerWorker
        say("fleet: \(accounts) accounts on \(workers) workers, \(rate) jobs/s of \(botSeconds) s bots"
            + (targeted ? ", each a launch for one account" : "") + "; \(warmUp) s warm-up, \(seconds) s measured")
        for index in 0..<workers {
            let names = (0..<accountsPerWorker).map { "robot\(index * accountsPerWorker + $0):1" }
            try fleet.startWorker(index, group: "fleet", slots: accountsPerWorker, accounts: names)
        }
        // Every account served (its lease claimed, its consumers up) before the clock starts.
        let ready = ContinuousClock.now + .seconds(180)
        while try await driver.client.get("/v1/workers", as: [WorkerStatus].self).filter({ $0.state == .active })
            .reduce(0, { $0 + $1.accounts.filter(\.served).count }) < accounts {
            guard ContinuousClock.now < ready else { throw ValidationError("the workers did not serve every account") }
            try await Task.sleep(for: .seconds(1))
        }
        let processes = [("dispatcher", fleet.dispatcher!.processIdentifier)]
            + fleet.workers.sorted { $0.key < $1.key }.map { ("worker \($0.key)", $0.value.processIdentifier) }
            + (try brokerPID().map { [("broker", $0)] } ?? [])

        say("idle fleet: \(idleSeconds) s of heartbeats only")
        let idleStart = processes.map { CPUTime.of(process: $0.1) }
        try await Task.sleep(for: .seconds(idleSeconds))
        let idleShare = zip(processes, idleStart).map {
            (CPUTime.of(process: $0.0.1) - $0.1).seconds / Double(idleSeconds)
        }

        say("load: \(rate) jobs/s")
        let interval = Duration.seconds(1 / rate)
        let total = Int(rate * Double(warmUp + seconds))
        let measuredFrom = Int(rate * Double(warmUp))
        var cpuAtStart: [Duration] = []
        var ids: [Int64] = []
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Int64.self) { submissions in
            for index in 0..<total {
                try await Task.sleep(until: start + interval * index, clock: .continuous)
                if index == measuredFrom { cpuAtStart = processes.map { CPUTime.of(process: $0.1) } }
                let account = targeted ? "robot\(index % accounts)" : nil
                submissions.addTask {
                    try await driver.submit([SubmitJobRequest(bot: "robot-task", group: "fleet", account: account)],
                                            concurrency: 1)[0]
                }
            }
            for try await id in submissions { ids.append(id) }
        }
        let cpuUsed = zip(processes, cpuAtStart).map { CPUTime.of(process: $0.0.1) - $0.1 }
        let memory = processes.map { ProcessFleet.peakMemoryMiB(pid: $0.1) }
        let measuredJobs = total - measuredFrom

        say("waiting for the last jobs to end")
        try await driver.waitFor(timeout: .seconds(Int64(botSeconds) * 4 + 120)) {
            $0.count(.succeeded) >= total
        }
        let jobs = try await driver.allJobs(ids: ids)
        let latencies = jobs.compactMap { job in job.startedAt.map { $0.timeIntervalSince(job.submittedAt) * 1000 } }

        var rows: [(String, String)] = []
        let window = Duration.seconds(seconds)
        for (index, (name, _)) in processes.enumerated() {
            let used = cpuUsed[index].seconds
            // What the jobs cost beyond what the idle fleet costs anyway (heartbeats, timers).
            let beyondIdle = max(0, used - idleShare[index] * window.seconds)
            rows.append(("fleet: \(name)", String(
                format: "%.2f ms CPU per job (%.2f beyond idle), %.1f %% of a core (idle %.1f %%); peak RSS %@",
                used * 1000 / Double(measuredJobs), beyondIdle * 1000 / Double(measuredJobs),
                used / window.seconds * 100, idleShare[index] * 100,
                memory[index].map { String(format: "%.0f MiB", $0) } ?? "?")))
        }
        rows.append(("fleet: submit → a worker starts it (p50 / p90 / p99 / max)", Throughput.describe(latencies)))
        rows.append(("fleet: jobs", "\(total) submitted (\(measuredJobs) in the measured \(seconds) s), "
            + "\(jobs.filter { $0.state == .succeeded }.count) succeeded"))
        printTable(rows)
    }

    private func brokerPID() throws -> Int32? {
        guard let brokerPidFile else { return nil }
        let text = try String(contentsOfFile: brokerPidFile, encoding: .utf8)
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
