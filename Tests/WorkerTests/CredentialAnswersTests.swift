import Shared
import Testing

@testable import Worker

@Suite("Credential answers")
struct CredentialAnswersTests {
    static func reply(_ id: String) -> CredentialReply { CredentialReply(requestID: id, sealedCredential: "sealed") }

    @Test("an answer reaches the run waiting for it, also when it came before the run began to wait")
    func matched() async {
        let answers = CredentialAnswers()
        answers.expect("early")
        answers.deliver(Self.reply("early"))
        #expect(await answers.wait(for: "early", timeout: .seconds(5)) == Self.reply("early"))

        answers.expect("late")
        async let waited = answers.wait(for: "late", timeout: .seconds(5))
        try? await Task.sleep(for: .milliseconds(50))
        answers.deliver(Self.reply("late"))
        #expect(await waited == Self.reply("late"))
    }

    @Test("without an answer the wait ends at its timeout; an answer after that, or to a request never sent, is dropped")
    func timeoutAndStrays() async {
        let answers = CredentialAnswers()
        answers.expect("slow")
        let clock = ContinuousClock()
        let started = clock.now
        #expect(await answers.wait(for: "slow", timeout: .milliseconds(100)) == nil)
        #expect(clock.now - started < .seconds(5))
        answers.deliver(Self.reply("slow"))
        answers.deliver(Self.reply("stranger"))
        // Nothing was kept: a later wait for either is not answered by them.
        for id in ["slow", "stranger"] {
            answers.expect(id)
            #expect(await answers.wait(for: id, timeout: .milliseconds(50)) == nil)
        }
    }
}
