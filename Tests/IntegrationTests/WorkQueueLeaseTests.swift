import Dispatcher
import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

/// Leases and postponed items of a work queue, with real bots claiming through the `botyard` CLI.
@Suite("Work queue leases with bots")
struct WorkQueueLeaseTests {
    static let botyard = WorkerProcess.binaries.appendingPathComponent("botyard").path

    /// Registers `name` as a shell bot running `script`, with one attempt.
    func register(_ name: String, _ script: String, in fleet: Fleet) async throws {
        let path = fleet.folder.appendingPathComponent("\(name).sh")
        try "#!/bin/sh\n\(script)\n".write(to: path, atomically: true, encoding: .utf8)
        try await fleet.register(CreateBotRequest(name: name, argv: ["/bin/sh", path.path], timeoutSeconds: 60,
                                                  retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
    }

    /// A bot that claims one item of `queue` and completes it, naming its job in the output.
    func registerFinisher(of queue: String, in fleet: Fleet) async throws {
        try await register("finisher", """
            claimed=$("\(Self.botyard)" item claim \(queue) --format shell) || exit 1
            eval "$claimed"
            "\(Self.botyard)" item complete "$BOTYARD_ITEM_ID" --token "$BOTYARD_ITEM_TOKEN" \\
              --result "{\\"by\\": $BOTYARD_JOB_ID}"
            """, in: fleet)
    }

    func item(_ id: Int64, in fleet: Fleet) async throws -> WorkItemDetail {
        try await fleet.api.send(.get, "/v1/items/\(id)").decode(WorkItemDetail.self)
    }

    /// Polls item `id` until `condition` holds; fails the test after `timeout`.
    func waitForItem(_ id: Int64, in fleet: Fleet, timeout: Duration = .seconds(45),
                     until condition: (WorkItemSnapshot) -> Bool) async throws -> WorkItemDetail {
        let deadline = ContinuousClock.now + timeout
        while true {
            let detail = try await item(id, in: fleet)
            if condition(detail.item) { return detail }
            guard ContinuousClock.now < deadline else {
                Issue.record("item \(id) still \(detail.item.state.rawValue) after \(timeout): \(detail.history)")
                return detail
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("a killed claimer's item returns when its lease expires, and a late completion with the old token is refused")
    func killedClaimer() async throws {
        try await Fleet.run { fleet in
            let claim = fleet.folder.appendingPathComponent("claim")
            // Claims, tells the test its item, lease token and job token, and dies at once (SIGKILL: no chance
            // to clean up).
            try await register("claimer", """
                claimed=$("\(Self.botyard)" item claim leased --format shell) || exit 1
                eval "$claimed"
                echo "$BOTYARD_ITEM_ID $BOTYARD_ITEM_TOKEN $BOTYARD_JOB_TOKEN" > "\(claim.path).tmp"
                mv "\(claim.path).tmp" "\(claim.path)"
                kill -9 $$
                """, in: fleet)
            try await registerFinisher(of: "leased", in: fleet)
            let queue = try await fleet.api.send(.post, "/v1/queues",
                                                 #"{"name": "leased", "leaseSeconds": 2, "maxRetries": 1}"#)
            try #require(queue.status == .created)
            let added = try await fleet.api.send(.post, "/v1/queues/leased/items", #"{"reference": "INV-1"}"#)
            let itemID = try added.decode(WorkItemSnapshot.self).id

            let claimerID = try await fleet.submit(SubmitJobRequest(bot: "claimer", group: "g1"))
            let claimer = try await fleet.waitForJob(claimerID, timeout: .seconds(60))
            #expect(claimer.state == .dead, "killed by its own SIGKILL: \(claimer.reason ?? "")")
            let words = try String(contentsOf: claim, encoding: .utf8).split(whereSeparator: \.isWhitespace)
                .map(String.init)
            try #require(words.count == 3 && Int64(words[0]) == itemID, "the claimer wrote \(words)")
            let (oldToken, jobToken) = (words[1], words[2])

            // Nothing claims the queue meanwhile: the lease keeper alone brings the item back.
            let returned = try await waitForItem(itemID, in: fleet) { $0.state == .new }
            #expect(returned.item.retryNumber == 1 && returned.item.claimedByJob == nil)
            #expect(returned.history.map(\.to) == [.new, .inProgress, .new])
            #expect(returned.history.last?.reason == "lease expired; back in the queue (retry 1 of 1)")
            #expect(returned.history[1].reason.hasPrefix("claimed by job \(claimerID) until "))

            // The dead bot's late completion, with its job's token and its lease token: its job has
            // ended, so its token opens nothing; sent with an operator's token, the lease has expired.
            let completion = #"{"leaseToken": "\#(oldToken)"}"#
            let byDeadJob = try await fleet.api.send(.post, "/v1/items/\(itemID)/complete", completion, token: jobToken)
            #expect(byDeadJob.status == .unauthorized)
            #expect(try byDeadJob.errorCode() == "invalid_token")
            let late = try await fleet.api.send(.post, "/v1/items/\(itemID)/complete", completion)
            #expect(late.status == .conflict)
            #expect(try late.errorCode() == "lease_expired")
            #expect(try await item(itemID, in: fleet).item == returned.item, "the refused completion changed nothing")

            // The finisher's lease is a long one: its claim and completion are two CLI runs, which a
            // loaded machine can stretch past two seconds.
            let longer = try await fleet.api.send(.put, "/v1/queues/leased",
                                                  #"{"name": "leased", "leaseSeconds": 120, "maxRetries": 1}"#)
            try #require(longer.status == .ok)
            let finisherID = try await fleet.submit(SubmitJobRequest(bot: "finisher", group: "g1"))
            let finisher = try await fleet.waitForJob(finisherID, timeout: .seconds(60))
            #expect(finisher.state == .succeeded, "\(finisher.reason ?? "")")
            let done = try await item(itemID, in: fleet).item
            #expect(done.state == .successful && done.claimedByJob == finisherID && done.retryNumber == 1)
            #expect(done.output == .object(["by": .number(Double(finisherID))]))
        }
    }

    @Test("a postponed item is not claimed before its time: a bot claiming at once finds nothing, a later one gets it")
    func postponedItem() async throws {
        try await Fleet.run { fleet in
            let go = fleet.folder.appendingPathComponent("go")
            // Started before the item exists, it claims the moment the test says go.
            try await register("eager", """
                while [ ! -f "\(go.path)" ]; do sleep 0.05; done
                date -u +%Y-%m-%dT%H:%M:%S.%3NZ
                "\(Self.botyard)" item claim later --format shell
                echo "claim exit $?"
                """, in: fleet)
            try await registerFinisher(of: "later", in: fleet)
            try #require(try await fleet.api.send(.post, "/v1/queues", #"{"name": "later"}"#).status == .created)

            let eagerID = try await fleet.submit(SubmitJobRequest(bot: "eager", group: "g1"))
            try await fleet.waitForJob(eagerID, timeout: .seconds(60)) { $0.state == .running || $0.state.isTerminal }
            let until = Timestamp.format(Date().addingTimeInterval(4))
            let body = #"{"reference": "LATER-1", "postponeUntil": "\#(until)"}"#
            let item = try await fleet.api.send(.post, "/v1/queues/later/items", body).decode(WorkItemSnapshot.self)
            let postponeUntil = try #require(item.postponeUntil)
            try Data().write(to: go)
            #expect(try await fleet.waitForJob(eagerID, timeout: .seconds(60)).state == .succeeded)
            let log = String(buffer: try await fleet.api.send(.get, "/v1/jobs/\(eagerID)/log").body)
            #expect(log.hasSuffix("\nclaim exit 3\n"), "a claim made before \(postponeUntil) found nothing: \(log)")
            #expect(try await self.item(item.id, in: fleet).item.state == .new)

            let wait = postponeUntil.timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000) + 100)) }
            let finisherID = try await fleet.submit(SubmitJobRequest(bot: "finisher", group: "g1"))
            #expect(try await fleet.waitForJob(finisherID, timeout: .seconds(60)).state == .succeeded)
            let done = try await self.item(item.id, in: fleet)
            #expect(done.item.state == .successful && done.item.claimedByJob == finisherID)
            let claimed = try #require(done.history.first { $0.to == .inProgress })
            #expect(claimed.at >= postponeUntil, "claimed at \(claimed.at), postponed until \(postponeUntil)")
        }
    }
}
