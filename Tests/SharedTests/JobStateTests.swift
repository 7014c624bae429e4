import Testing

@testable import Shared

@Suite("Job states")
struct JobStateTests {
    @Test("terminal states accept no further change")
    func terminal() {
        for state in JobState.allCases where state.isTerminal {
            for next in JobState.allCases {
                #expect(!state.canTransition(to: next), "\(state) → \(next)")
            }
        }
    }

    @Test("a job goes pending → queued → running → succeeded")
    func happyPath() {
        #expect(JobState.pending.canTransition(to: .queued))
        #expect(JobState.queued.canTransition(to: .running))
        #expect(JobState.running.canTransition(to: .succeeded))
    }

    @Test("a worker's start may overtake the broker's confirm")
    func startBeforeConfirm() {
        #expect(JobState.pending.canTransition(to: .running))
    }

    @Test("a failed attempt waits in retrying and runs again")
    func retry() {
        #expect(JobState.running.canTransition(to: .retrying))
        #expect(JobState.retrying.canTransition(to: .running))
        #expect(JobState.retrying.canTransition(to: .dead))
    }

    @Test("a running job goes back to the queue only when its worker hands it back, to pending only as a targeted launch back in the robot queue; never to rejected")
    func noWayBack() {
        #expect(JobState.running.canTransition(to: .queued))
        #expect(!JobState.retrying.canTransition(to: .queued))
        #expect(JobState.running.canTransition(to: .pending) && JobState.queued.canTransition(to: .pending))
        #expect(!JobState.retrying.canTransition(to: .pending))
        #expect(!JobState.queued.canTransition(to: .rejected))
    }
}
