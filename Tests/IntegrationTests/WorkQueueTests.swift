import Foundation
import Shared
import TestSupport
import Testing

/// Work queues drained by real bots through the `botyard` CLI.
@Suite("Work queues with bots")
struct WorkQueueTests {
    @Test("two bots loop over a queue with `botyard item claim` from inside their jobs: every item done once, by one of them")
    func botLoopDrainsQueue() async throws {
        try await Fleet.run { fleet in
            let botyard = WorkerProcess.binaries.appendingPathComponent("botyard").path
            let script = fleet.folder.appendingPathComponent("loop.sh")
            try """
            #!/bin/sh
            # Claims items until none is ready; completes each with who did it.
            while claimed=$("\(botyard)" item claim invoices --format shell); do
              eval "$claimed"
              "\(botyard)" item complete "$BOTYARD_ITEM_ID" --token "$BOTYARD_ITEM_TOKEN" \\
                --result "{\\"by\\": $BOTYARD_JOB_ID}" > /dev/null || exit 1
              echo "$BOTYARD_ITEM_REFERENCE"
            done
            """.write(to: script, atomically: true, encoding: .utf8)
            try await fleet.register(CreateBotRequest(name: "loop", argv: ["/bin/sh", script.path], timeoutSeconds: 60,
                                                      retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
            let queue = try await fleet.api.send(.post, "/v1/queues", #"{"name": "invoices", "leaseSeconds": 30}"#)
            try #require(queue.status == .created)
            let items = (1...16).map { #"{"reference": "INV-\#($0)", "payload": {"n": \#($0)}}"# }.joined(separator: ",")
            let added = try await fleet.api.send(.post, "/v1/queues/invoices/items/bulk", #"{"items": [\#(items)]}"#)
            try #require(added.status == .created)

            let jobs = [try await fleet.submit(SubmitJobRequest(bot: "loop", group: "g1")),
                        try await fleet.submit(SubmitJobRequest(bot: "loop", group: "g1"))]
            for job in jobs { #expect(try await fleet.waitForJob(job, timeout: .seconds(90)).state == .succeeded) }
            let done = try await fleet.api.send(.get, "/v1/queues/invoices/items?limit=100").decode([WorkItemSnapshot].self)
            #expect(done.count == 16 && done.allSatisfy { $0.state == .successful })
            #expect(done.allSatisfy { jobs.contains($0.claimedByJob ?? 0) }, "each item names the job that claimed it")
            #expect(done.allSatisfy { $0.output == .object(["by": .number(Double($0.claimedByJob ?? 0))]) })
            let logs = try await jobs.asyncMap { try await fleet.api.send(.get, "/v1/jobs/\($0)/log") }
            let references = logs.flatMap { String(buffer: $0.body).split(separator: "\n").map(String.init) }
            #expect(references.sorted() == (1...16).map { "INV-\($0)" }.sorted(), "every item done exactly once")
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
