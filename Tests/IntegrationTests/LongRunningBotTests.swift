import Foundation
import Shared
import Testing
import Worker

/// RabbitMQ 3.10 closes a channel whose delivery stays unacknowledged past `consumer_timeout`
/// (30 min by default, checked about once a minute) and redelivers the job while its bot still
/// runs. Botyard acknowledges after the outcome, so ops/ raises the limit in the broker's config.
@Suite("Long-running bots")
struct LongRunningBotTests {
    @Test("the broker runs with ops/'s consumer timeout, above the longest bot timeout Botyard accepts plus the worker's default pause limit")
    func brokerConfiguration() async throws {
        let reply = try await TestBroker.rabbitmqctl(["eval", "application:get_env(rabbit, consumer_timeout)."])
        let milliseconds = try #require(Int(reply.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "{ok,", with: "").replacingOccurrences(of: "}", with: "")), "reply: \(reply)")
        let pauseLimit = Int(WorkerConfiguration().pauseLimit.seconds)
        #expect(milliseconds > (BotDefinition.maximumTimeoutSeconds + pauseLimit) * 1000)
    }

    @Test("a bot that runs past the broker's consumer-timeout check is not cut off", .timeLimit(.minutes(3)))
    func outlivesTimeoutCheck() async throws {
        try await Fleet.run { fleet in
            try await fleet.register(CreateBotRequest(name: "marathon", argv: ["/bin/sleep", "75"], timeoutSeconds: 120,
                                                      retry: .fixed(maxAttempts: 3, waitMilliseconds: 0)))
            let id = try await fleet.submit(SubmitJobRequest(bot: "marathon", group: "g1"))
            let job = try await fleet.waitForJob(id, timeout: .seconds(150))
            #expect(job.state == .succeeded)
            #expect(job.attempts == 1)
            #expect(job.history?.filter { $0.to == .running }.count == 1)
        }
    }
}
