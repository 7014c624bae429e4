import Foundation
import Shared
import TestSupport
import Testing

/// An account is its own failure domain on a worker: what goes wrong with one account's
/// consumers does not stop the bots of the others.
@Suite("Accounts as failure domains", .serialized)
struct AccountFailureTests {
    @Test("when the broker cancels one account's consumer (its queue was deleted), the account consumes it again, and the bots running on every account go on")
    func consumerCancelledByBroker() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("stamp", seconds: 4))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let worker = try await workers.start("domains", AdmissionTests.workerOptions(host: "h1",
                                                                                      accounts: ["robot1:1", "robot2:1"]))
                for account in ["robot1", "robot2"] {
                    try await waitUntil(timeout: .seconds(20)) {
                        try await fleet.account(account, of: "domains")?.served == true
                    }
                }
                var ids: [Int64] = []
                for account in ["robot1", "robot2"] {
                    let id = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1", account: account, host: "h1"))
                    try await fleet.waitForJob(id) { $0.state == .running }
                    ids.append(id)
                }

                let queue = Topology.accountQueue(host: "h1", account: "robot1")
                try await TestBroker.management(.delete, "api/queues/\(fleet.url.virtualHost)/\(queue)")
                try await waitUntil(timeout: .seconds(10)) {
                    worker.logText.contains("the broker cancelled a consumer; consuming its queue again")
                }

                // Both runs end as their first and only attempt: nothing was handed back or run twice.
                for id in ids {
                    let job = try await fleet.waitForJob(id, timeout: .seconds(30))
                    #expect(job.state == .succeeded && job.attempts == 1)
                }
                // The queue is back, and consumed.
                let later = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1", account: "robot1", host: "h1"))
                #expect(try await fleet.waitForJob(later, timeout: .seconds(30)).state == .succeeded)
                #expect(bot.runs().count == 3)
            }
        }
    }

    @Test("jobs whose queue is deleted while they run or wait on a worker, and then handed back at shutdown, are sent again by the dispatcher — a launch through the robot queue, any other job as a new message: their messages went with the queue, the jobs are not lost")
    func handedBackAfterTheirQueueWasDeleted() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            // Long on its first attempt, so that it is handed back; short when it is sent again.
            try await fleet.register(bot.bot("slow-first", seconds: 120, laterSeconds: 0))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let options = AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:2"])
                let leaving = try await workers.start("leaving", options + ["--shutdown-deadline", "1"])
                try await waitUntil(timeout: .seconds(20)) {
                    try await fleet.account("robot1", of: "leaving")?.served == true
                }
                // Sent again while no worker serves robot1, it waits a second in the robot queue, not 30.
                let launch = try await fleet.submit(SubmitJobRequest(
                    bot: "slow-first", group: "g1", account: "robot1", host: "h1",
                    robotQueue: RobotQueuePolicy(waitSeconds: 1, maxAttempts: 30)))
                let job = try await fleet.submit(SubmitJobRequest(bot: "slow-first", group: "g1"))
                try await waitUntil(timeout: .seconds(30)) { Set(bot.runs().map(\.jobID)) == [launch, job] }
                // A third waits on the worker for a slot (its consumer's look-ahead).
                let waiting = try await fleet.submit(SubmitJobRequest(bot: "slow-first", group: "g1"))
                let jobQueue = Topology.jobQueue(group: "g1", priority: .normal, lane: .background)
                try await fleet.waitForJob(waiting) { $0.state == .queued }
                try await waitUntil(timeout: .seconds(10)) {
                    try await messagesWaiting(in: [jobQueue], url: fleet.url) == 0
                }

                let queues = [Topology.accountQueue(host: "h1", account: "robot1"), jobQueue]
                for queue in queues {
                    try await TestBroker.management(.delete, "api/queues/\(fleet.url.virtualHost)/\(queue)")
                }
                try await waitUntil(timeout: .seconds(10)) {
                    leaving.logText.components(separatedBy: "the broker cancelled a consumer").count == 3
                }
                #expect(await leaving.stop(grace: .seconds(30)), "still running 30 s after SIGTERM")

                _ = try await workers.start("arriving", options)
                for id in [launch, job, waiting] {
                    let finished = try await fleet.waitForJob(id, timeout: .seconds(60))
                    // A stopped run gave its attempt back; the one sent again was told attempt 2.
                    #expect(finished.state == .succeeded && finished.attempts == 1)
                    #expect(bot.runs().filter { $0.jobID == id }.map(\.attempt) == (id == waiting ? [2] : [1, 2]))
                    let lines = finished.history?.map(\.reason) ?? []
                    let lost = "its message went with the queue deleted while leaving held it"
                    #expect(lines.contains { $0.contains(lost) }, "\(lines)")
                }
            }
        }
    }

    @Test("a lease claim the broker refuses for another reason than a holder (no permission to declare it) fails that account alone: the others serve on one unbroken connection, and the account is claimed once the way is clear")
    func leaseClaimFailure() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            try await fleet.register(bot.bot("stamp", seconds: 0))
            // The group's user may declare everything it may as a rule but the lease of robot2.
            let user = try await fleet.workerURL(host: "h1").user
            let granted = BrokerPermissions.workers(group: "g1", hosts: ["h1"])
            func permit(configure: String) async throws {
                let body = try JSONSerialization.data(withJSONObject: [
                    "configure": configure, "write": granted.write, "read": granted.read,
                ])
                try await TestBroker.management(.put, "api/permissions/\(fleet.url.virtualHost)/\(user)",
                                                body: String(decoding: body, as: UTF8.self))
            }
            try await permit(configure: #"^(?!botyard\.lease\.h1\.robot2$)"# + granted.configure)
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let worker = try await workers.start("domains", AdmissionTests.workerOptions(host: "h1",
                                                                                      accounts: ["robot1:1", "robot2:1"]))
                try await waitUntil(timeout: .seconds(20)) {
                    worker.logText.contains("the broker refused the account's lease claim; trying again")
                }
                try await waitUntil(timeout: .seconds(20)) {
                    try await fleet.account("robot1", of: "domains")?.served == true
                }
                let first = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1", account: "robot1",
                                                                    host: "h1"))
                #expect(try await fleet.waitForJob(first, timeout: .seconds(30)).state == .succeeded)
                #expect(worker.logText.contains("ACCESS_REFUSED"))
                #expect(try await fleet.account("robot2", of: "domains")?.served != true)

                try await permit(configure: granted.configure)
                try await waitUntil(timeout: .seconds(20)) {
                    try await fleet.account("robot2", of: "domains")?.served == true
                }
                let second = try await fleet.submit(SubmitJobRequest(bot: "stamp", group: "g1", account: "robot2",
                                                                     host: "h1"))
                #expect(try await fleet.waitForJob(second, timeout: .seconds(30)).state == .succeeded)
                // One connection throughout: the refused claims never tore it down.
                #expect(!worker.logText.contains("broker connection lost"))
                #expect(worker.logText.components(separatedBy: "connected to broker").count == 2)
            }
        }
    }
}
