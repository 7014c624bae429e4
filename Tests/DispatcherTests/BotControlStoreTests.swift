import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("Store: pause, resume, business failures, cleanups, holds")
struct BotControlStoreTests {
    static let bot = BotDefinition(name: "echo", argv: ["/bin/echo", "hi"], timeoutSeconds: 30,
                                   retry: .fixed(maxAttempts: 3, waitMilliseconds: 0))

    func running(_ store: BotyardStore, run: String = "run-1") async throws -> Int64 {
        try await store.saveBot(Self.bot)
        let job = try await store.submit(SubmitJobRequest(bot: "echo", group: "g1"), bot: Self.bot)
        try await store.markPublished(try store.outbox(limit: 10))
        _ = try await store.apply(event(.started, job: job.id, run: run), random: 0)
        return job.id
    }

    func event(_ kind: JobEvent.Kind, job: Int64, attempt: Int = 1, run: String = "run-1",
               outcome: JobOutcome? = nil) -> JobEvent {
        JobEvent(kind: kind, jobID: job, attempt: attempt, runID: run, workerID: "w1", host: "h1", account: "a1",
                 outcome: outcome)
    }

    func controls(_ store: BotyardStore) async throws -> [(ControlMessage, String)] {
        try await store.outbox(limit: 100).filter { $0.kind == .control }
            .map { (try JSONCodec.decode(ControlMessage.self, from: $0.body), $0.routingKey) }
    }

    @Test("pause: running → paused with a history row and a pause order to the job's worker; resume: back to running")
    func pauseAndResume() async throws {
        try await withTemporaryStore { store, _ in
            let id = try await running(store)
            guard case .paused(let paused) = try await store.pause(jobID: id) else {
                Issue.record("not paused")
                return
            }
            #expect(paused.state == .paused)
            guard case .resumed(let resumed) = try await store.resume(jobID: id) else {
                Issue.record("not resumed")
                return
            }
            #expect(resumed.state == .running)
            let orders = try await controls(store)
            #expect(orders.map(\.0.command) == [.pause, .resume])
            #expect(orders.allSatisfy { $0.0.jobID == id && $0.1 == "worker.w1" })
            let history = try #require(try await store.job(id: id)?.history)
            #expect(history.suffix(2).map(\.to) == [.paused, .running])
            #expect(history.suffix(2).map(\.reason) == ["paused through the API", "resumed through the API"])
        }
    }

    @Test("pause of a job that is not running, resume of one that is not paused: refused, nothing changed")
    func badRequests() async throws {
        try await withTemporaryStore { store, _ in
            let id = try await running(store)
            guard case .notPaused(.running) = try await store.resume(jobID: id) else {
                Issue.record("resumed a running job")
                return
            }
            let outcome = JobOutcome(result: .succeeded, reason: "ok")
            _ = try await store.apply(event(.finished, job: id, outcome: outcome), random: 0)
            guard case .notRunning(.succeeded) = try await store.pause(jobID: id) else {
                Issue.record("paused a finished job")
                return
            }
            guard case .notFound = try await store.pause(jobID: 999) else {
                Issue.record("paused an unknown job")
                return
            }
            #expect(try await controls(store).isEmpty)
            #expect(try await store.job(id: id)?.history?.last?.to == .succeeded)
        }
    }

    @Test("a paused job's bot that ends is judged like a running one's")
    func pausedJobFinishes() async throws {
        try await withTemporaryStore { store, _ in
            let id = try await running(store)
            _ = try await store.pause(jobID: id)
            let outcome = JobOutcome(result: .succeeded, reason: "exit code 0")
            #expect(try await store.apply(event(.finished, job: id, outcome: outcome), random: 0)
                == .applied(.succeeded, publishes: false))
        }
    }

    @Test("a business exception ends the job failed, kind business, with its reason, and publishes no retry")
    func businessException() async throws {
        try await withTemporaryStore { store, _ in
            let id = try await running(store)
            let outcome = JobOutcome(result: .businessException, exitCode: 0, reason: "invoice 17 is already paid",
                                     outputs: ["BUSINESS_EXCEPTION": "invoice 17 is already paid"])
            #expect(try await store.apply(event(.finished, job: id, outcome: outcome), random: 0)
                == .applied(.failed, publishes: false))
            let job = try #require(try await store.job(id: id))
            #expect(job.state == .failed && job.failureKind == .business)
            #expect(job.reason == "business exception: invoice 17 is already paid")
            #expect(try await store.outbox(limit: 10).isEmpty)
        }
    }

    @Test("attempts exhausted by system failures: dead, kind system")
    func systemFailure() async throws {
        try await withTemporaryStore { store, _ in
            let id = try await running(store)
            for attempt in 1...3 {
                let run = "run-\(attempt)"
                if attempt > 1 {
                    _ = try await store.apply(event(.started, job: id, attempt: attempt, run: run), random: 0)
                }
                _ = try await store.apply(event(.finished, job: id, attempt: attempt, run: run,
                                                outcome: JobOutcome(result: .timedOut, reason: "timed out")), random: 0)
            }
            let job = try #require(try await store.job(id: id))
            #expect(job.state == .dead && job.failureKind == .system)
        }
    }

    @Test("a cleanup report adds a history row (state unchanged) and keeps its log; applied once")
    func cleanedUp() async throws {
        try await withTemporaryStore { store, _ in
            let id = try await running(store)
            let outcome = JobOutcome(result: .cancelled, reason: "cancelled")
            _ = try await store.apply(event(.finished, job: id, outcome: outcome), random: 0)
            let report = event(.cleanedUp, job: id, outcome: JobOutcome(result: .failed, exitCode: 3, reason: "exit code 3",
                                                                         log: "reset failed\n"))
            #expect(try await store.apply(report, random: 0) == .applied(.cancelled, publishes: false))
            #expect(try await store.apply(report, random: 0) == .duplicate)
            let job = try #require(try await store.job(id: id))
            #expect(job.state == .cancelled)
            #expect(job.history?.filter { $0.reason.hasPrefix("cleanup after attempt 1") }.map(\.reason) == [
                "cleanup after attempt 1 failed on account a1 on h1: exit code 3; the account takes no jobs until an operator clears it",
            ])
            #expect(try await store.cleanupLog(jobID: id, attempt: nil) == "reset failed\n")
            #expect(try await store.cleanupLog(jobID: id, attempt: 2) == nil)
        }
    }

    @Test("clearing a hold tells the active workers of the host that hold the account; one not held is a conflict")
    func clearHold() async throws {
        try await withTemporaryStore { store, _ in
            func beat(_ worker: String, hold: String?) async throws {
                _ = try await store.apply([], heartbeats: [WorkerHeartbeat(
                    workerID: worker, group: "g1", host: "h1", accounts: [AccountStatus(name: "a1", limit: 1, hold: hold)],
                    slots: 4, running: 0, intervalSeconds: 5)], random: { 0 })
            }
            #expect(try await store.clearHold(host: "h1", account: "a1") == .notServed)
            try await beat("w1", hold: nil)
            #expect(try await store.clearHold(host: "h1", account: "a1") == .notHeld)
            try await beat("w1", hold: "cleanup failed: exit code 3")
            #expect(try await store.clearHold(host: "h1", account: "a1") == .cleared(workers: ["w1"]))
            let orders = try await controls(store)
            #expect(orders.count == 1 && orders[0].0 == ControlMessage(command: .clearHold, jobID: 0, account: "a1"))
            #expect(orders[0].1 == "worker.w1")
        }
    }
}
