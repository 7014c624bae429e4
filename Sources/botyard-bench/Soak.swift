import ArgumentParser
import BotyardClient
import Foundation
import Shared

/// A fault run: jobs of random short bots, some failing, while workers are killed with SIGKILL,
/// the broker restarts once and the dispatcher is killed and restarted once. At the end every
/// job must have ended the way its bot behaves.
struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the fault soak and check every job.")

    @OptionGroup var broker: BrokerOptions
    @Option(help: "Jobs to submit.") var jobs = 1_000
    @Option(help: "Worker processes.") var workers = 3
    @Option(help: "Slots per worker.") var slots = 4
    @Option(help: "Seconds between worker kills.") var killEvery = 4.0
    @Option(help: "The broker's folder, for its restart through ops/broker.") var brokerDir: String
    @Option(help: "Path of ops/broker.") var opsBroker = "ops/broker"
    @Option(help: "Seconds to wait for the last jobs after the faults.") var settleTimeout = 240

    enum Behaviour: String, CaseIterable {
        case succeeds = "soak-ok"
        case failsOnce = "soak-fails-once"
        case alwaysFails = "soak-always-fails"

        var expected: JobState { self == .alwaysFails ? .dead : .succeeded }
    }

    func run() async throws {
        let fleet = try broker.makeFleet()
        defer { fleet.stopAll() }
        try fleet.startDispatcher()
        for index in 0..<workers { try fleet.startWorker(index, group: "soak", slots: slots) }
        let driver = Driver(client: fleet.client(connections: 16))
        try await driver.waitUntilHealthy()
        let sleep = #"sleep "$BOTYARD_INPUT_SECONDS""#
        try await driver.register(CreateBotRequest(name: Behaviour.succeeds.rawValue, argv: ["/bin/sh", "-c", sleep],
                                                   timeoutSeconds: 30, retry: .fixed(maxAttempts: 6, waitMilliseconds: 200)))
        try await driver.register(CreateBotRequest(
            name: Behaviour.failsOnce.rawValue,
            argv: ["/bin/sh", "-c", sleep + #"; test "$BOTYARD_ATTEMPT" -ge 2"#],
            timeoutSeconds: 30, retry: .fixed(maxAttempts: 6, waitMilliseconds: 200)))
        try await driver.register(CreateBotRequest(name: Behaviour.alwaysFails.rawValue, argv: ["/bin/sh", "-c", sleep + "; exit 3"],
                                                   timeoutSeconds: 30, retry: .fixed(maxAttempts: 2, waitMilliseconds: 200)))

        let plan = (0..<jobs).map { _ in
            (Behaviour.allCases.randomElement()!, String(format: "%.2f", Double.random(in: 0.05...0.5)))
        }
        let accepted = Accepted()
        var faults = Faults()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await submitAll(plan, driver: driver, into: accepted) }
            try await inflictFaults(on: fleet, driver: driver, accepted: accepted, faults: &faults)
            try await group.waitForAll()
        }
        say("soak: faults done after \(Int((ContinuousClock.now - start).seconds)) s; waiting for the last jobs")

        let ids = await accepted.ids
        let deadline = ContinuousClock.now + .seconds(settleTimeout)
        var finalJobs: [Int64: JobSnapshot] = [:]
        var missing: Set<Int64> = []
        while true {
            (finalJobs, missing) = try await fetch(ids.map(\.id), driver: driver)
            let open = finalJobs.values.filter { !$0.state.isTerminal }.count
            if open == 0 || ContinuousClock.now > deadline { break }
            try await Task.sleep(for: .seconds(1))
        }

        var stuck = 0, wrong = 0, duplicated = 0, reruns = 0
        for (id, behaviour) in ids {
            guard let job = finalJobs[id] else { continue }
            if !job.state.isTerminal {
                stuck += 1
                say("  stuck: job \(id) \(job.state.rawValue)")
                continue
            }
            let history = job.history ?? []
            let endings = history.filter { $0.to.isTerminal && !($0.from?.isTerminal ?? false) }.count
            if endings > 1 { duplicated += 1 }
            reruns += history.filter { $0.reason.contains("rerun") }.count
            let attemptsRight: Bool
            switch behaviour {
            case .succeeds:
                attemptsRight = job.attempts >= 1
            case .failsOnce:
                // It succeeds once told attempt 2 or later: after a failed run, or when its message was
                // delivered before, unrun; then the history must say so.
                attemptsRight = job.attempts >= 2
                    || history.contains { $0.reason.contains("the bot was told attempt") }
            case .alwaysFails:
                attemptsRight = job.attempts == 2
            }
            if job.state != behaviour.expected || !attemptsRight {
                wrong += 1
                say("  unexpected: job \(id) (\(behaviour.rawValue)) \(job.state.rawValue) after \(job.attempts) attempts: \(job.reason ?? "")")
            }
        }
        let lost = missing.count
        say("soak: \(ids.count) jobs, \(lost) lost, \(stuck) stuck, \(duplicated) duplicated outcomes, "
              + "\(faults.workerKills) worker kills, \(faults.brokerRestarts) broker restarts")
        say("soak: \(faults.dispatcherRestarts) dispatcher restarts, \(wrong) unexpected outcomes, \(reruns) reruns "
              + "after lost workers, \(Int((ContinuousClock.now - start).seconds)) s in all")
        if lost + stuck + duplicated + wrong > 0 { throw ExitCode(1) }
    }

    /// The ids the dispatcher answered 201 for, with what their bot does.
    actor Accepted {
        var ids: [(id: Int64, behaviour: Behaviour)] = []
        var done = false
        func add(_ id: Int64, _ behaviour: Behaviour) { ids.append((id, behaviour)) }
        func finish() { done = true }
    }

    struct Faults {
        var workerKills = 0
        var brokerRestarts = 0
        var dispatcherRestarts = 0
    }

    /// Submits every job, retrying while the dispatcher is down; a job counts once it got its 201.
    func submitAll(_ plan: [(Behaviour, String)], driver: Driver, into accepted: Accepted) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for slice in 0..<8 {
                group.addTask {
                    for index in stride(from: slice, to: plan.count, by: 8) {
                        let (behaviour, seconds) = plan[index]
                        let request = SubmitJobRequest(bot: behaviour.rawValue, group: "soak", inputs: ["SECONDS": seconds])
                        while true {
                            do {
                                await accepted.add(try await driver.client.post("/v1/jobs", request, as: JobCreated.self).id, behaviour)
                                break
                            } catch let failure as DispatcherClient.Failure where failure.status == nil {
                                try await Task.sleep(for: .milliseconds(200))  // dispatcher down: try again
                            }
                        }
                        try await Task.sleep(for: .milliseconds(Int.random(in: 5...40)))
                    }
                }
            }
            try await group.waitForAll()
        }
        await accepted.finish()
    }

    /// Kills a random worker every few seconds until every job is submitted and has ended;
    /// restarts the broker once and the dispatcher once on the way.
    func inflictFaults(on fleet: ProcessFleet, driver: Driver, accepted: Accepted, faults: inout Faults) async throws {
        var round = 0
        var lastSubmission: ContinuousClock.Instant?
        while true {
            try await Task.sleep(for: .seconds(killEvery))
            round += 1
            let victim = Int.random(in: 0..<workers)
            fleet.killWorker(victim)
            faults.workerKills += 1
            try await Task.sleep(for: .milliseconds(500))
            try fleet.startWorker(victim, group: "soak", slots: slots)
            if round == 2 {
                say("soak: restarting the broker")
                try runOpsBroker(["stop", "--dir", brokerDir])
                try runOpsBroker(["start", "--dir", brokerDir] + portArguments())
                faults.brokerRestarts += 1
            }
            if round == 4 {
                say("soak: killing the dispatcher")
                fleet.killDispatcher()
                try await Task.sleep(for: .seconds(1))
                try fleet.startDispatcher()
                try await driver.waitUntilHealthy()
                faults.dispatcherRestarts += 1
            }
            guard await accepted.done, round >= 5 else { continue }
            if let stats = try? await driver.stats(),
               JobState.allCases.filter({ !$0.isTerminal }).allSatisfy({ stats.count($0) == 0 }) {
                return
            }
            // Jobs still open a while after the last submission are left to the final check, which
            // reports them as stuck.
            let since = lastSubmission ?? ContinuousClock.now
            lastSubmission = since
            if ContinuousClock.now - since > .seconds(settleTimeout) { return }
        }
    }

    private func portArguments() throws -> [String] {
        let url = try AMQPURL(parsing: broker.amqpURL)
        var arguments = ["--port", String(url.port)]
        let env = try String(contentsOfFile: brokerDir + "/env", encoding: .utf8)
        if let line = env.split(separator: "\n").first(where: { $0.hasPrefix("BOTYARD_MANAGEMENT_URL=") }),
           let port = line.split(separator: ":").last {
            arguments += ["--management-port", String(port)]
        }
        return arguments
    }

    private func runOpsBroker(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opsBroker)
        process.arguments = arguments
        try process.run()
        let exitCode = ProcessFleet.waitForExit(process)
        guard exitCode == 0 else {
            throw ValidationError("ops/broker \(arguments.joined(separator: " ")) failed (\(exitCode))")
        }
    }

    /// The jobs by id, and the ids the dispatcher does not know.
    private func fetch(_ ids: [Int64], driver: Driver) async throws -> ([Int64: JobSnapshot], Set<Int64>) {
        var found: [Int64: JobSnapshot] = [:]
        var missing: Set<Int64> = []
        for chunk in stride(from: 0, to: ids.count, by: 200).map({ Array(ids[$0..<min($0 + 200, ids.count)]) }) {
            do {
                for job in try await driver.allJobs(ids: chunk) { found[job.id] = job }
            } catch let failure as DispatcherClient.Failure where failure.status == 404 {
                for id in chunk {
                    if let job = try? await driver.client.get("/v1/jobs/\(id)", as: JobSnapshot.self) {
                        found[id] = job
                    } else {
                        missing.insert(id)
                    }
                }
            }
        }
        return (found, missing)
    }
}
