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
                let worker = try workers.start("domains", AdmissionTests.workerOptions(host: "h1",
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
}
