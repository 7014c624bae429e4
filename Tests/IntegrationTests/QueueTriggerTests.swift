import Foundation
import Shared
import TestSupport
import Testing

/// Queue triggers starting real bots that claim their items through the `botyard` CLI.
@Suite("Queue triggers with bots")
struct QueueTriggerTests {
    static var botyard: String { WorkerProcess.binaries.appendingPathComponent("botyard").path }

    /// A bot that claims and completes items of its queue (`BOTYARD_INPUT_QUEUE`) until none is
    /// ready; with `startedUpWhen`, its start-up (a bot opening its applications) lasts until that
    /// file exists; with `oneItem` it stops after one item, saying when it found none.
    static func bot(_ name: String, in folder: URL, startedUpWhen: URL? = nil, oneItem: Bool = false) throws
        -> CreateBotRequest {
        let script = folder.appendingPathComponent("\(name).sh")
        try """
        #!/bin/sh
        \(startedUpWhen.map { "while [ ! -e '\($0.path)' ]; do sleep 0.1; done" } ?? "")
        while true; do
          claimed=$("\(botyard)" item claim "$BOTYARD_INPUT_QUEUE" --format shell) || { echo "found no item"; exit 0; }
          eval "$claimed"
          "\(botyard)" item complete "$BOTYARD_ITEM_ID" --token "$BOTYARD_ITEM_TOKEN" > /dev/null || exit 1
          echo "did $BOTYARD_ITEM_REFERENCE"
          \(oneItem ? "exit 0" : "")
        done
        """.write(to: script, atomically: true, encoding: .utf8)
        return CreateBotRequest(name: name, argv: ["/bin/sh", script.path], timeoutSeconds: 120,
                                retry: .fixed(maxAttempts: 1, waitMilliseconds: 0))
    }

    static func trigger(_ fleet: Fleet, queue: String, _ settings: String) async throws {
        try #require(try await fleet.api.send(.post, "/v1/queues", #"{"name": "\#(queue)", "leaseSeconds": 60}"#).status
                        == .created)
        let saved = try await fleet.api.send(.put, "/v1/queues/\(queue)/trigger", settings)
        try #require(saved.status == .created, "\(String(buffer: saved.body))")
    }

    static func jobs(_ fleet: Fleet, of queue: String) async throws -> [JobSnapshot] {
        try await fleet.api.send(.get, "/v1/jobs?limit=1000").decode([JobSnapshot].self)
            .filter { $0.initiator == "queue trigger \(queue)" }.sorted { $0.id < $1.id }
    }

    /// Polls until `condition` holds for the trigger's jobs; fails the test after `timeout`.
    @discardableResult
    static func waitForJobs(_ fleet: Fleet, of queue: String, timeout: Duration = .seconds(120),
                            until condition: ([JobSnapshot]) -> Bool) async throws -> [JobSnapshot] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let jobs = try await jobs(fleet, of: queue)
            if condition(jobs) { return jobs }
            guard ContinuousClock.now < deadline else {
                Issue.record("jobs of queue \(queue) after \(timeout): \(jobs.map { "\($0.id) \($0.state.rawValue)" })")
                return jobs
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("60 items added in bulk with minimum 31, maximum 3, one job per 10 (UiPath, pending and running) start 3 jobs, which drain the queue")
    func bulkAddStartsThreeJobs() async throws {
        try await Fleet.run { fleet in
            try await fleet.register(try Self.bot("drainer", in: fleet.folder))
            try await Self.trigger(fleet, queue: "invoices", """
                {"bot": "drainer", "group": "g1", "minItemsToTrigger": 31, "maxConcurrentJobs": 3, "itemsPerJob": 10,
                 "pendingJobsStrategy": false, "strategy": "uipath"}
                """)
            let items = (1...60).map { #"{"reference": "INV-\#($0)"}"# }.joined(separator: ",")
            try #require(try await fleet.api.send(.post, "/v1/queues/invoices/items/bulk", #"{"items": [\#(items)]}"#)
                            .status == .created)

            let started = try await Self.jobs(fleet, of: "invoices")
            #expect(started.count == 3, "the bulk add started its 3 jobs in its own transaction")
            #expect(started.allSatisfy { $0.launchMethod == .queueTrigger })
            let ended = try await Self.waitForJobs(fleet, of: "invoices") { $0.allSatisfy(\.state.isTerminal) }
            #expect(ended.count == 3 && ended.allSatisfy { $0.state == .succeeded })
            let done = try await fleet.api.send(.get, "/v1/queues/invoices/items?limit=100").decode([WorkItemSnapshot].self)
            #expect(done.count == 60 && done.allSatisfy { $0.state == .successful })
            var references: [String] = []
            for job in ended {
                let log = String(buffer: try await fleet.api.send(.get, "/v1/jobs/\(job.id)/log").body)
                references += log.split(separator: "\n").filter { $0.hasPrefix("did ") }.map { String($0.dropFirst(4)) }
            }
            #expect(references.sorted() == (1...60).map { "INV-\($0)" }.sorted(), "every item done once")
            let trigger = try await fleet.api.send(.get, "/v1/queues/invoices/trigger").decode(QueueTriggerSnapshot.self)
            #expect(trigger.lastEvaluation?.evaluation.inputs.readyItems == 0)
        }
    }

    @Test("items added one by one while the jobs open their applications: exact starts no job that finds no item; UiPath's pending-only setting does")
    func exactDoesNotOverSchedule() async throws {
        try await Fleet.run(slots: 10) { fleet in
            let startedUp = fleet.folder.appendingPathComponent("started-up")
            try await fleet.register(try Self.bot("slow-starter", in: fleet.folder, startedUpWhen: startedUp,
                                                  oneItem: true))
            for (queue, strategy) in [("exact-q", "exact"), ("uipath-q", "uipath")] {
                try await Self.trigger(fleet, queue: queue, """
                    {"bot": "slow-starter", "group": "g1", "minItemsToTrigger": 1, "maxConcurrentJobs": 10,
                     "itemsPerJob": 1, "pendingJobsStrategy": true, "strategy": "\(strategy)"}
                    """)
            }
            for item in 1...3 {
                for queue in ["exact-q", "uipath-q"] {
                    try #require(try await fleet.api.send(.post, "/v1/queues/\(queue)/items",
                                                          #"{"reference": "\#(queue)-\#(item)"}"#).status == .created)
                }
                // Every job started so far runs and has not claimed yet when the next item comes.
                for queue in ["exact-q", "uipath-q"] {
                    try await Self.waitForJobs(fleet, of: queue) { $0.allSatisfy { $0.state == .running } }
                }
            }
            // The bots have opened their applications: they claim now.
            try Data().write(to: startedUp)
            var foundNothing: [String: Int] = [:]
            var jobCounts: [String: Int] = [:]
            for queue in ["exact-q", "uipath-q"] {
                let ended = try await Self.waitForJobs(fleet, of: queue) { $0.allSatisfy(\.state.isTerminal) }
                jobCounts[queue] = ended.count
                for job in ended {
                    let log = String(buffer: try await fleet.api.send(.get, "/v1/jobs/\(job.id)/log").body)
                    if log.contains("found no item") { foundNothing[queue, default: 0] += 1 }
                }
                let items = try await fleet.api.send(.get, "/v1/queues/\(queue)/items").decode([WorkItemSnapshot].self)
                #expect(items.count == 3 && items.allSatisfy { $0.state == .successful }, "\(queue)")
            }
            #expect(jobCounts["exact-q"] == 3 && foundNothing["exact-q", default: 0] == 0)
            // UiPath starts 1, then 2, then 3 jobs: each new item is counted again while the jobs run unclaimed
            // (and, reassessing when its first jobs end, more for items the others are about to claim).
            let uipathJobs = jobCounts["uipath-q", default: 0]
            #expect(uipathJobs >= 6, "1 + 2 + 3 jobs for 3 items")
            #expect(foundNothing["uipath-q", default: 0] == uipathJobs - 3, "all but 3 found no item")
        }
    }
}
