import Shared
import Testing

@testable import Dispatcher

@Suite("Credential entitlement")
struct CredentialEntitlementTests {
    static let request = CredentialRequest(requestID: "r1", jobID: 7, group: "desk", host: "h1", account: "robot1",
                                           workerID: "w1")

    static func job(group: String = "desk", state: JobState = .running, needsUI: Bool = true, account: String? = nil,
                    host: String? = nil) -> CredentialEntitlement.Job {
        CredentialEntitlement.Job(group: group, state: state, needsUI: needsUI, account: account, dispatchHost: host)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var job: CredentialEntitlement.Job?
        var hostInGroup = true
        var verdict: CredentialEntitlement.Verdict
        var testDescription: String { name }
    }

    @Test("a worker gets an account's credential only for a live UI job of its group, on a host of its group", arguments: [
        Case(name: "a group launch, on any account of a host of the group", job: job(), verdict: .entitled),
        Case(name: "a queued job whose start is not reported yet", job: job(state: .queued), verdict: .entitled),
        Case(name: "a launch to this very account and host", job: job(account: "robot1", host: "h1"), verdict: .entitled),
        Case(name: "no such job", job: nil, verdict: .refused("job 7 does not exist")),
        Case(name: "another group's job", job: job(group: "demo"),
             verdict: .refused("job 7 belongs to group demo, not desk")),
        Case(name: "a job that ended", job: job(state: .succeeded), verdict: .refused("job 7 is succeeded already")),
        Case(name: "a background bot", job: job(needsUI: false), verdict: .refused("job 7's bot needs no account session")),
        Case(name: "a launch to another account", job: job(account: "robot2", host: "h1"),
             verdict: .refused("job 7 was launched to robot2 on h1")),
        Case(name: "a launch to the account on another host", job: job(account: "robot1", host: "h2"),
             verdict: .refused("job 7 was launched to robot1 on h2")),
        Case(name: "a host the group has not reported from (yet)", job: job(), hostInGroup: false,
             verdict: .hostNotYetKnown),
    ])
    func verdicts(_ check: Case) {
        #expect(CredentialEntitlement(request: Self.request, job: check.job, hostInGroup: check.hostInGroup).verdict
                == check.verdict)
    }
}
