import Foundation
import Testing

@testable import Shared

@Suite("Bot controls in the model")
struct BotControlModelTests {
    @Test("a bot definition stored before stop graces and cleanups reads with the default grace and no cleanup")
    func olderDefinition() throws {
        let stored = #"{"name":"b","version":"1","argv":["/bin/true"],"needsUI":false,"timeoutSeconds":60,"retry":{"maxAttempts":3,"backoff":{"kind":"fixed","milliseconds":1000}}}"#
        let bot = try JSONCodec.decode(BotDefinition.self, from: Data(stored.utf8))
        #expect(bot.stopGraceSeconds == BotDefinition.defaultStopGraceSeconds && bot.stopGraceSeconds == 10)
        #expect(bot.cleanup == nil && bot.marks.isEmpty)
    }

    @Test("a cleanup is an argv like the bot's; the stop grace is 0 to 3600 s")
    func validation() {
        #expect(BotDefinition(name: "b", argv: ["/bin/true"], stopGraceSeconds: 0, cleanup: ["/bin/reset", "--all"])
            .problems.isEmpty)
        #expect(BotDefinition(name: "b", argv: ["/bin/true"], cleanup: []).problems == ["cleanup must name a program"])
        #expect(BotDefinition(name: "b", argv: ["/bin/true"], cleanup: ["/bin/x\u{0}"]).problems
            == ["cleanup must not contain NUL bytes"])
        #expect(BotDefinition(name: "b", argv: ["/bin/true"], stopGraceSeconds: -1).problems
            == ["stopGraceSeconds must be between 0 and 3600"])
    }

    @Test("POST /v1/bots fills in the default grace and keeps the cleanup")
    func createRequest() {
        let bot = CreateBotRequest(name: "b", argv: ["/bin/true"], cleanup: ["/bin/reset"]).definition
        #expect(bot.stopGraceSeconds == 10 && bot.cleanup == ["/bin/reset"])
        #expect(CreateBotRequest(name: "b", argv: ["/bin/true"], stopGraceSeconds: 2).definition.stopGraceSeconds == 2)
    }

    @Test("a heartbeat from a worker that knows no holds reads as holding none")
    func olderHeartbeat() throws {
        let status = try JSONCodec.decode(AccountStatus.self,
                                          from: Data(#"{"name":"a","limit":1,"running":0,"uiRunning":false,"served":true}"#.utf8))
        #expect(status.hold == nil)
    }
}
