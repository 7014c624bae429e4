import Testing

@testable import Dispatcher

@Suite("A result set later and awaited by one task")
struct PendingResultTests {
    struct Refused: Error {}

    @Test("a result set before anyone waits is there when they do")
    func finishedBeforeTheWait() async throws {
        let pending = PendingResult<Int>()
        pending.finish(.success(7))
        #expect(try await pending.value == 7)
    }

    @Test("a task waiting for the result resumes when it is set")
    func finishedDuringTheWait() async throws {
        let pending = PendingResult<Int>()
        let waiter = Task { try await pending.value }
        try await Task.sleep(for: .milliseconds(20))
        pending.finish(.success(3))
        #expect(try await waiter.value == 3)
    }

    @Test("the first result set is the one that counts; a failure is thrown to the waiter")
    func firstResultCounts() async throws {
        let pending = PendingResult<Int>()
        pending.finish(.failure(Refused()))
        pending.finish(.success(1))
        await #expect(throws: Refused.self) { try await pending.value }
    }
}
