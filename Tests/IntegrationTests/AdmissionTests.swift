import Foundation
import Shared
import TestSupport
import Testing

/// Accounts, UI exclusivity, marks, leases and priorities, with real worker processes.
@Suite("Admission across worker processes", .serialized)
struct AdmissionTests {
    /// Options every worker process of these tests gets.
    static func workerOptions(host: String, accounts: [String], slots: Int = 10) -> [String] {
        ["--group", "g1", "--host", host, "--max-concurrent", String(slots), "--lease-retry-interval", "0.3",
         "--accounts"] + accounts
    }

    @Test("account limit 2 across a crash: twenty 1-second jobs, two worker processes, the serving one killed mid-way; never more than 2 at once, and all succeed")
    func accountLimitAcrossProcesses() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("stamp", seconds: 1))
            let watch = StampBot.EndWatch(bot)
            defer { watch.stop() }
            let ids = try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                var byID: [String: WorkerProcess] = [:]
                for name in ["limit-a", "limit-b"] {
                    byID[name] = try await workers.start(name, Self.workerOptions(host: "h1", accounts: ["robot1:2"]))
                }
                var holder: String?
                try await waitUntil(timeout: .seconds(20)) {
                    holder = try await fleet.leaseHolder(of: "robot1", among: ["limit-a", "limit-b"])
                    return holder != nil
                }
                let serving = try #require(holder.flatMap { byID[$0] })
                let standby = try #require(byID.values.first { $0 !== serving })
                #expect(try await fleet.account("robot1", of: standby.workerID)?.served == false)

                var ids: [Int64] = []
                for _ in 0..<20 { ids.append(try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1"))) }
                try await waitUntil(timeout: .seconds(60)) { bot.runs().filter { $0.end != nil }.count >= 5 }
                // Killed just after a bot starts, so that it is still running when the standby takes over.
                let startsSoFar = bot.runs().count
                try await waitUntil(timeout: .seconds(10)) { bot.runs().count > startsSoFar }
                #expect(try await fleet.account("robot1", of: standby.workerID)?.served == false)
                watch.watchNewRuns()
                let killedAt = StampBot.EndWatch.now()
                await serving.kill()

                for id in ids { #expect(try await fleet.waitForJob(id, timeout: .seconds(60)).state == .succeeded) }
                // Bots of the killed worker that never wrote an end: the standby killed them when it took over.
                let leftBehind = bot.runs().filter { $0.start < killedAt && $0.end == nil }
                for run in leftBehind { #expect(!isRunning(run.pid), "a bot the killed worker left behind still runs") }
                if !leftBehind.isEmpty {
                    #expect(Set(leftBehind.map(\.pid)).isSubset(of: Self.orphansStopped(by: standby)),
                            "the standby's log: \(standby.logText)")
                }
                print("account limit across a crash: \(leftBehind.count) bot(s) left behind by \(serving.workerID),",
                      "stopped by \(standby.workerID) when it took over")
                return ids
            }
            // A bot left behind ends when the standby killed it (see EndWatch); the others by their end stamp.
            let runs = watch.runs()
            #expect(Set(runs.map(\.jobID)) == Set(ids))
            #expect(runs.allSatisfy { $0.end != nil }, "\(runs)")
            #expect(StampBot.peakOverlap(runs) == 2, "\(runs)")
        }
    }

    /// The bots that `worker` logged it stopped when it took over an account.
    static func orphansStopped(by worker: WorkerProcess) -> Set<pid_t> {
        // "… bot.pids=15242,15249 … stopped bots a dead worker left running on the account"
        let line = worker.logText.split(separator: "\n")
            .first { $0.contains("stopped bots a dead worker left running on the account") }
        let pids = line?.split(separator: " ").first { $0.hasPrefix("bot.pids=") }?.dropFirst("bot.pids=".count)
        return Set((pids ?? "").split(separator: ",").compactMap { pid_t($0) })
    }

    @Test("the broker holds each account's limits: per-consumer prefetch of limit + 1 on the group's background queues and the account's queue, 2 on the UI lane; no limit means all slots")
    func prefetchPerAccount() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let options = Self.workerOptions(host: "h1", accounts: ["robot1:3", "robot2"], slots: 10)
                _ = try await workers.start("prefetch", options)
                let robot1 = [
                    "botyard.jobs.g1.high": 4, "botyard.jobs.g1.normal": 4, "botyard.jobs.g1.low": 4,
                    "botyard.jobs.g1.high.ui": 2, "botyard.jobs.g1.normal.ui": 2, "botyard.jobs.g1.low.ui": 2,
                    "botyard.account.h1.robot1": 4,
                ]
                // robot2 has no limit: all 10 slots of the worker.
                let robot2 = [
                    "botyard.jobs.g1.high": 11, "botyard.jobs.g1.normal": 11, "botyard.jobs.g1.low": 11,
                    "botyard.jobs.g1.high.ui": 2, "botyard.jobs.g1.normal.ui": 2, "botyard.jobs.g1.low.ui": 2,
                    "botyard.account.h1.robot2": 11,
                ]
                var seen: [[String: Int]] = []
                try await waitUntil(timeout: .seconds(20)) {
                    seen = try await TestBroker.prefetchByChannel(virtualHost: fleet.url.virtualHost)
                    return seen.contains(robot1) && seen.contains(robot2)
                }
                #expect(seen.contains(robot1), "consumers by channel: \(seen)")
                #expect(seen.contains(robot2), "consumers by channel: \(seen)")
            }
        }
    }

    @Test("UI bots never run two at once on one account, while background bots run beside them")
    func uiExclusivity() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("ui-bot", seconds: 1, needsUI: true))
            try await fleet.register(bot.bot("background-bot", seconds: 1))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("ui", Self.workerOptions(host: "h1", accounts: ["robot1:3"]))
                var ids: [Int64] = []
                for _ in 0..<4 {
                    ids.append(try await fleet.submit(SubmitJobRequest(bot: "ui-bot", group: "g1", inputs: ["TAG": "ui"])))
                }
                try await fleet.waitForJob(ids[0]) { $0.state == .running }
                for _ in 0..<4 {
                    ids.append(try await fleet.submit(SubmitJobRequest(bot: "background-bot", group: "g1",
                                                                       inputs: ["TAG": "bg"])))
                }
                for id in ids { #expect(try await fleet.waitForJob(id, timeout: .seconds(60)).state == .succeeded) }
            }
            let runs = bot.runs()
            #expect(runs.count == 8)
            #expect(StampBot.peakOverlap(runs) { $0.tag == "ui" } == 1)
            let ui = runs.filter { $0.tag == "ui" }
            let besideUI = runs.filter { run in
                run.tag == "bg" && ui.contains { $0.start < (run.end ?? .max) && run.start < ($0.end ?? .max) }
            }
            #expect(!besideUI.isEmpty, "background bots ran only while no UI bot did: \(runs)")
        }
    }

    @Test("two runs with one mark never run at once on one account; runs without it go on beside them")
    func marks() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("sap-bot", seconds: 1, marks: ["sap"]))
            try await fleet.register(bot.bot("other-bot", seconds: 1))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("marks", Self.workerOptions(host: "h1", accounts: ["robot1:4"]))
                var ids: [Int64] = []
                for index in 0..<6 {
                    let (name, tag) = index % 2 == 0 ? ("sap-bot", "sap") : ("other-bot", "other")
                    ids.append(try await fleet.submit(SubmitJobRequest(bot: name, group: "g1", inputs: ["TAG": tag])))
                }
                for id in ids { #expect(try await fleet.waitForJob(id, timeout: .seconds(60)).state == .succeeded) }
            }
            let runs = bot.runs()
            #expect(StampBot.peakOverlap(runs) { $0.tag == "sap" } == 1)
            #expect(StampBot.peakOverlap(runs) >= 2)
        }
    }

    @Test("a second worker claiming a busy account is refused; it takes over when the first is killed, stops the bot left behind, and reruns the job as attempt 2")
    func leaseRefusedThenTakenOver() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("stamp", seconds: 60, laterSeconds: 0.2))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let first = try await workers.start("lease-a", Self.workerOptions(host: "h1", accounts: ["robot1:2"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "lease-a")?.served == true }
                let second = try await workers.start("lease-b", Self.workerOptions(host: "h1", accounts: ["robot1:2"]))
                try await waitUntil(timeout: .seconds(20)) {
                    second.logText.contains("account robot1 on host h1 is served by another worker process")
                }
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "lease-b")?.served == false }

                let id = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1"))
                let running = try await fleet.waitForJob(id) { $0.state == .running }
                #expect(running.workerID == "lease-a")
                try await waitUntil(timeout: .seconds(10)) { !bot.runs().isEmpty }
                let orphan = try #require(bot.runs().first)

                await first.kill()
                let job = try await fleet.waitForJob(id, timeout: .seconds(30))
                #expect(job.state == .succeeded && job.attempts == 2 && job.workerID == "lease-b")
                #expect(!isRunning(orphan.pid), "the bot the killed worker left behind still runs")
                #expect(second.logText.contains("stopped bots a dead worker left running on the account"))
                if isRunning(orphan.pid) { kill(-orphan.pid, SIGKILL) }
            }
        }
    }

    @Test("kill -9 of a worker in the middle of a job: the job completes on another worker as attempt 2, nothing left running")
    func killedMidJob() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("stamp", seconds: 60, laterSeconds: 0.2))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                var byID: [String: WorkerProcess] = [:]
                for (name, host) in [("crash-a", "h1"), ("crash-b", "h2")] {
                    byID[name] = try await workers.start(name, Self.workerOptions(host: host, accounts: ["robot1"]))
                }
                let id = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1"))
                let running = try await fleet.waitForJob(id) { $0.state == .running }
                let victim = try #require(running.workerID)
                try await waitUntil(timeout: .seconds(10)) { !bot.runs().isEmpty }
                await byID[victim]?.kill()

                let job = try await fleet.waitForJob(id, timeout: .seconds(30))
                #expect(job.state == .succeeded && job.attempts == 2)
                #expect(job.workerID != nil && job.workerID != victim)
                #expect(bot.runs().filter { $0.jobID == id }.map(\.attempt) == [1, 2], "BOTYARD_ATTEMPT of each run")
                #expect(try await fleet.store.jobCounts()[.running, default: 0] == 0)
                try await waitUntil(timeout: .seconds(20)) { try await fleet.worker(victim)?.state == .lost }
                // Nobody serves robot1 on the victim's host any more, so nothing stopped its bot (60 s).
                for run in bot.runs() where isRunning(run.pid) { kill(-run.pid, SIGKILL) }
            }
        }
    }

    @Test("with a backlog in all three priorities, the first starts after a slot frees are high, and 1 start in 10 goes to the lower ones")
    func priorityShare() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            let go = fleet.folder.appendingPathComponent("go")
            try await fleet.register(CreateBotRequest(
                name: "blocker", argv: ["/bin/sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done", go.path],
                timeoutSeconds: 120))
            try await fleet.register(bot.bot("quick", seconds: 0))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("priorities", Self.workerOptions(host: "h1", accounts: ["robot1:1"], slots: 1))
                let blocker = try await fleet.submit(SubmitJobRequest(bot: "blocker", group: "g1"))
                try await fleet.waitForJob(blocker) { $0.state == .running }
                var ids: [Int64] = []
                for (priority, count) in [(Priority.low, 10), (.normal, 10), (.high, 95)] {
                    for _ in 0..<count {
                        ids.append(try await fleet.submit(SubmitJobRequest(
                            bot: "quick", group: "g1", priority: priority, inputs: ["TAG": priority.rawValue])))
                    }
                }
                try await waitUntil(timeout: .seconds(30)) {
                    try await fleet.store.jobCounts()[.queued, default: 0] == ids.count
                }
                _ = FileManager.default.createFile(atPath: go.path, contents: nil)
                for id in ids { #expect(try await fleet.waitForJob(id, timeout: .seconds(120)).state == .succeeded) }
            }
            let starts = bot.runs().map(\.tag)
            #expect(starts.count == 115)
            #expect(starts.prefix(9).allSatisfy { $0 == "high" })
            let share = Dictionary(grouping: starts.prefix(100), by: { $0 }).mapValues(\.count)
            print("priority share over the first 100 starts with a backlog in all three:",
                  "high \(share["high", default: 0]), normal \(share["normal", default: 0]), low \(share["low", default: 0])")
            #expect(share == ["high": 90, "normal": 5, "low": 5])
        }
    }
}

extension Fleet {
    /// A worker as `GET /v1/workers` shows it.
    func worker(_ workerID: String) async throws -> WorkerStatus? {
        try await api.send(.get, "/v1/workers").decode([WorkerStatus].self).first { $0.workerID == workerID }
    }

    /// The one of `workerIDs` that serves `account`, once every other one reports it stands by.
    func leaseHolder(of account: String, among workerIDs: [String]) async throws -> String? {
        var holders: [String] = []
        for workerID in workerIDs {
            guard let status = try await self.account(account, of: workerID) else { return nil }
            if status.served { holders.append(workerID) }
        }
        return holders.count == 1 ? holders[0] : nil
    }

    /// An account as the named worker's last heartbeat reported it.
    func account(_ name: String, of workerID: String) async throws -> AccountStatus? {
        try await api.send(.get, "/v1/workers").decode([WorkerStatus].self)
            .first { $0.workerID == workerID }?.accounts.first { $0.name == name }
    }
}
