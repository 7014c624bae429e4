import BotyardClient
import Foundation
import Shared
import TestSupport
import Testing

@Suite("JSON logs")
struct JSONLogTests {
    @Test("with --log-format json every line the dispatcher writes is a JSON object, and a submission's request is logged with its request id, status and the job's id")
    func dispatcherLogsJSON() async throws {
        try await TestBroker.withVirtualHost { url in try await withScratchFolder("botyard-json") { folder in
            let dispatcher = try await DispatcherProcess(url: url, database: folder.appendingPathComponent("b.sqlite"),
                                                         folder: folder, options: ["--log-format", "json"])
            try await withTeardown {
                _ = try await dispatcher.client.post("/v1/bots", CreateBotRequest(name: "quick", argv: ["/bin/true"],
                                                                                  timeoutSeconds: 30),
                                                     as: BotDefinition.self)
                let job = try await dispatcher.client.post("/v1/jobs", SubmitJobRequest(bot: "quick", group: "g1"),
                                                           as: JobCreated.self)
                var records: [[String: Any]] = []
                try await waitUntil(timeout: .seconds(10)) {
                    let text = try String(contentsOf: dispatcher.log, encoding: .utf8)
                    records = text.split(separator: "\n").map {
                        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["unparsed": String($0)]
                    }
                    return records.contains { $0["job.id"] as? String == String(job.id) }
                }
                #expect(records.allSatisfy { $0["unparsed"] == nil && $0["time"] is String && $0["level"] is String })
                let submitted = try #require(records.first { $0["job.id"] as? String == String(job.id) })
                #expect(submitted["message"] as? String == "request answered")
                #expect(submitted["http.status"] as? String == "201")
                #expect(submitted["hb.request.method"] as? String == "POST")
                #expect((submitted["hb.request.id"] as? String)?.isEmpty == false)
            } teardown: {
                await dispatcher.stop()
            }
        } }
    }
}
