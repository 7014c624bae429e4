import Testing

@testable import Shared

@Suite("Validation of names and requests")
struct ValidationTests {
    @Test("names that can become queue names and paths", arguments: ["bot", "Bot-1", "a.b_c", "9lives"])
    func validNames(name: String) {
        #expect(Names.isValid(name))
    }

    @Test("hostile or empty names are refused",
          arguments: ["", "-x", "../etc", "a b", "a/b", "x;rm -rf /", "$(id)", "é", String(repeating: "a", count: 65)])
    func invalidNames(name: String) {
        #expect(!Names.isValid(name))
    }

    @Test("a group name may not hold a dot (it is one routing-key level), nor be the account queues' prefix")
    func groupWithoutDot() {
        #expect(Names.isValidGroup("finance"))
        #expect(!Names.isValidGroup("fin.ance"))
        #expect(!Names.isValidGroup("account"))
        #expect(Topology.accountQueue(routingKey: Topology.accountRoutingKey(host: "h.example", account: "r1"))
            == Topology.accountQueue(host: "h.example", account: "r1"))
        #expect(Topology.accountQueue(routingKey: Topology.jobRoutingKey(group: "accounts", priority: .high)) == nil)
    }

    @Test("an account name may not hold a dot: (vm1.corp, x) and (vm1, corp.x) would share one account queue and one lease")
    func accountWithoutDot() {
        #expect(Names.isValidAccount("robot-1"))
        #expect(!Names.isValidAccount("corp.x"))
        #expect(SubmitJobRequest(bot: "b", group: "g", account: "corp.x", host: "vm1").problems == [Names.accountRule])
        #expect(SubmitJobRequest(bot: "b", group: "g", account: "x", host: "vm1.corp").problems.isEmpty)
    }

    @Test("bounded admission is for a group's queue: a launch for an account cannot ask for it")
    func boundedWithAccount() {
        #expect(SubmitJobRequest(bot: "b", group: "g", account: "x", admission: .bounded).problems == [
            "admission bounded limits a group's queue; a launch for an account waits in the robot queue (use queue or sync)",
        ])
        #expect(SubmitJobRequest(bot: "b", group: "g", account: "x", admission: .sync).problems.isEmpty)
    }

    @Test("input keys must be environment variable names")
    func inputKeys() {
        var request = SubmitJobRequest(bot: "b", group: "g", inputs: ["OK_1": "x", "bad-key": "y", "1st": "z"])
        #expect(request.problems.count == 2)
        request.inputs = ["A": String(repeating: "x", count: SubmitJobRequest.maximumInputBytes)]
        #expect(request.problems == ["inputs exceed \(SubmitJobRequest.maximumInputBytes) bytes"])
    }

    @Test("a bot needs a program, an absolute working directory and a sane timeout")
    func botProblems() {
        let bot = BotDefinition(name: "b", argv: [], workingDirectory: "relative", timeoutSeconds: 0)
        #expect(bot.problems.count == 3)
        #expect(BotDefinition(name: "b", argv: ["/bin/true"]).problems.isEmpty)
    }
}
