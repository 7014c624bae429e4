import BotyardClient
import Foundation
import Shared
import TestSupport
import Testing

/// Group commit answers a submission only once its shared transaction is durable.
@Suite("Group commit across a dispatcher crash")
struct GroupCommitCrashTests {
    @Test("the dispatcher kill -9ed while 32 connections submit: after a restart every job it answered for exists")
    func everyAnsweredJobSurvives() async throws {
        try await TestBroker.withVirtualHost { url in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-gc-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let database = folder.appendingPathComponent("botyard.sqlite")
            try await DispatcherProcesses.with(url: url, folder: folder) { dispatchers in
                let dispatcher = try await dispatchers.start(database: database, options: ["--durability", "full"])
                _ = try await dispatcher.client.post("/v1/bots", CreateBotRequest(name: "quick", argv: ["/bin/true"]),
                                                     as: BotDefinition.self)
                let client = DispatcherClient(baseURL: dispatcher.client.baseURL, connections: 32,
                                              bearerToken: dispatcher.client.bearerToken)
                let answered = Locked<[Int64]>([])
                // 32 submitters run until the dispatcher dies under them; it dies once 300 answers came.
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<32 {
                        group.addTask {
                            while let created = try? await client.post(
                                "/v1/jobs", SubmitJobRequest(bot: "quick", group: "g1"), as: JobCreated.self) {
                                answered.withLock { $0.append(created.id) }
                            }
                        }
                    }
                    group.addTask {
                        try? await waitUntil(timeout: .seconds(60)) { answered.withLock { $0.count } >= 300 }
                        await dispatcher.kill()
                    }
                }
                let ids = answered.withLock { $0 }
                #expect(ids.count >= 300)

                let restarted = try await dispatchers.start(database: database, name: "restarted")
                var missing: [Int64] = []
                for id in ids where (try? await restarted.client.get("/v1/jobs/\(id)", as: JobSnapshot.self)) == nil {
                    missing.append(id)
                }
                #expect(missing.isEmpty, "answered but lost: \(missing)")
                #expect(Set(ids).count == ids.count)
            }
        }
    }
}
