import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Store")
struct StoreTests {
    static let bot = BotDefinition(name: "echo", argv: ["/bin/echo", "hi"], timeoutSeconds: 30,
                                   retry: .fixed(maxAttempts: 2, waitMilliseconds: 1_500))

    func submitted(_ store: BotyardStore) throws -> JobSnapshot {
        try store.saveBot(Self.bot)
        return try store.submit(SubmitJobRequest(bot: "echo", group: "g1", priority: .high, inputs: ["X": "1"]),
                                bot: Self.bot)
    }

    func event(_ kind: JobEvent.Kind, job: Int64, attempt: Int, outcome: JobOutcome? = nil) -> JobEvent {
        JobEvent(kind: kind, jobID: job, attempt: attempt, workerID: "w1", host: "h1", account: "a1", outcome: outcome)
    }

    @Test("a submitted job is stored pending, with its history and its outbox message")
    func submit() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            #expect(job.state == .pending)
            let outbox = try store.outbox(limit: 10)
            #expect(outbox.count == 1)
            #expect(outbox[0].kind == .dispatch)
            #expect(outbox[0].routingKey == "g1.high")
            let envelope = try JSONCodec.decode(JobEnvelope.self, from: outbox[0].body)
            #expect(envelope.attempt == 1 && envelope.jobID == job.id && envelope.inputs == ["X": "1"])
            #expect(try store.job(id: job.id)?.history?.map(\.to) == [.pending])
        }
    }

    @Test("the broker's confirm makes a pending job queued and empties the outbox")
    func confirm() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            try store.markPublished(try store.outbox(limit: 10))
            #expect(try store.job(id: job.id)?.state == .queued)
            #expect(try store.outboxCount() == 0)
        }
    }

    @Test("a confirm that arrives after the worker's start does not move the job back")
    func lateConfirm() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            let outbox = try store.outbox(limit: 10)
            _ = try store.apply(event(.started, job: job.id, attempt: 1), random: 0)
            try store.markPublished(outbox)
            #expect(try store.job(id: job.id)?.state == .running)
        }
    }

    @Test("an event applied twice changes the job once")
    func idempotentEvents() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            let finished = event(.finished, job: job.id, attempt: 1, outcome: JobOutcome(result: .failed, exitCode: 1, reason: "exit code 1"))
            #expect(try store.apply(finished, random: 0) == .applied(.retrying, publishes: true))
            #expect(try store.apply(finished, random: 0) == .duplicate)
            #expect(try store.outbox(limit: 10).filter { $0.kind == .retry }.count == 1)
        }
    }

    @Test("a failed attempt schedules the next one through the retry exchange with its wait")
    func retryScheduled() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            try store.markPublished(try store.outbox(limit: 10))
            _ = try store.apply(event(.started, job: job.id, attempt: 1), random: 0)
            _ = try store.apply(event(.finished, job: job.id, attempt: 1,
                                      outcome: JobOutcome(result: .timedOut, reason: "timed out")), random: 0)
            let retry = try #require(try store.outbox(limit: 10).first)
            #expect(retry.exchange == Topology.retryExchange)
            #expect(retry.routingKey == "g1.high")
            #expect(retry.headers[Topology.retryDelayHeader] == "1500")
            #expect(try JSONCodec.decode(JobEnvelope.self, from: retry.body).attempt == 2)
            let stored = try #require(try store.job(id: job.id))
            #expect(stored.state == .retrying)
            #expect(stored.reason == "attempt 1 failed: timed out")
        }
    }

    @Test("the last failed attempt makes the job dead and parks it in botyard.dead")
    func exhausted() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            for attempt in 1...2 {
                _ = try store.apply(event(.started, job: job.id, attempt: attempt), random: 0)
                _ = try store.apply(event(.finished, job: job.id, attempt: attempt,
                                          outcome: JobOutcome(result: .failed, exitCode: 7, reason: "exit code 7")), random: 0)
            }
            let stored = try #require(try store.job(id: job.id))
            #expect(stored.state == .dead)
            #expect(stored.attempts == 2)
            #expect(stored.reason == "attempts exhausted (2 of 2); last: exit code 7")
            let dead = try store.outbox(limit: 10).filter { $0.kind == .dead }
            #expect(dead.count == 1)
            #expect(dead[0].exchange == Topology.deadExchange)
            #expect(dead[0].headers[Topology.deadReasonHeader] == stored.reason)
            #expect(stored.history?.map(\.to) == [.pending, .running, .retrying, .running, .dead])
        }
    }

    @Test("outputs, exit code and log of a success are kept")
    func success() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            _ = try store.apply(event(.finished, job: job.id, attempt: 1, outcome: JobOutcome(
                result: .succeeded, exitCode: 0, reason: "exit code 0", outputs: ["TOTAL": "12"], log: "hello\n")),
                                random: 0)
            let stored = try #require(try store.job(id: job.id))
            #expect(stored.state == .succeeded && stored.exitCode == 0 && stored.outputs == ["TOTAL": "12"])
            #expect(stored.workerID == "w1" && stored.host == "h1" && stored.ranAs == "a1")
            #expect(try store.log(jobID: job.id, attempt: nil) == "hello\n")
        }
    }

    @Test("cancelling a waiting job drops its unpublished message and tells the group's workers")
    func cancel() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            guard case .cancelled(let cancelled) = try store.cancel(jobID: job.id, reason: "operator") else {
                Issue.record("not cancelled")
                return
            }
            #expect(cancelled.state == .cancelled)
            let outbox = try store.outbox(limit: 10)
            #expect(outbox.map(\.kind) == [.control])
            #expect(outbox[0].routingKey == "group.g1")
            guard case .alreadyFinished(.cancelled) = try store.cancel(jobID: job.id, reason: "again") else {
                Issue.record("cancelled twice")
                return
            }
        }
    }

    @Test("a worker that starts a cancelled job is told to stop it")
    func startAfterCancel() async throws {
        try await withTemporaryStore { store, _ in
            let job = try submitted(store)
            _ = try store.cancel(jobID: job.id, reason: "operator")
            _ = try store.apply(event(.started, job: job.id, attempt: 1), random: 0)
            #expect(try store.outbox(limit: 10).map(\.routingKey).contains("worker.w1"))
            #expect(try store.job(id: job.id)?.state == .cancelled)
        }
    }

    @Test("the store survives being opened again, and keeps what was committed")
    func reopen() async throws {
        try await withTemporaryStore { store, path in
            let job = try submitted(store)
            let reopened = try BotyardStore(path: path)
            #expect(try reopened.job(id: job.id)?.state == .pending)
            #expect(try reopened.outboxCount() == 1)
        }
    }
}
