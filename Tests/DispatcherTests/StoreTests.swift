import Foundation
import GRDB
import Shared
import Testing

@testable import Dispatcher

@Suite("Store")
struct StoreTests {
    static let bot = BotDefinition(name: "echo", argv: ["/bin/echo", "hi"], timeoutSeconds: 30,
                                   retry: .fixed(maxAttempts: 2, waitMilliseconds: 1_500))

    func submitted(_ store: BotyardStore) async throws -> JobSnapshot {
        try await store.saveBot(Self.bot)
        return try await store.submit(SubmitJobRequest(bot: "echo", group: "g1", priority: .high, inputs: ["X": "1"]),
                                bot: Self.bot)
    }

    /// A report; `envelope` is the attempt of the message (a redelivery tells the bot a later one).
    func event(_ kind: JobEvent.Kind, job: Int64, attempt: Int, envelope: Int? = nil, run: String = "run",
               outcome: JobOutcome? = nil) -> JobEvent {
        JobEvent(kind: kind, jobID: job, attempt: attempt, envelopeAttempt: envelope ?? attempt, runID: run,
                 workerID: "w1", host: "h1", account: "a1", outcome: outcome)
    }

    /// A run of attempt `attempt` that started and ended with `outcome`.
    func run(_ store: BotyardStore, job: Int64, attempt: Int, _ outcome: JobOutcome) async throws -> EventApplication {
        let run = "run-\(attempt)"
        _ = try await store.apply(event(.started, job: job, attempt: attempt, run: run), random: 0)
        let finished = event(.finished, job: job, attempt: attempt, run: run, outcome: outcome)
        return try await store.apply(finished, random: 0)
    }

    static let failure = JobOutcome(result: .failed, exitCode: 7, reason: "exit code 7")

    @Test("the writer commits with the durability asked for: FULL syncs every commit, NORMAL does not")
    func durability() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (durability, level) in [(BotyardStore.Durability.full, 2), (.normal, 1)] {
            let store = try await BotyardStore.open(path: folder.appendingPathComponent("\(durability).sqlite").path,
                                                    durability: durability)
            let synchronous = try await store.database.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            #expect(synchronous == level, "\(durability)")
        }
    }

    @Test("a submitted job is stored pending, with its history and its outbox message")
    func submit() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            #expect(job.state == .pending)
            let outbox = try await store.outbox(limit: 10)
            #expect(outbox.count == 1)
            #expect(outbox[0].kind == .dispatch)
            #expect(outbox[0].routingKey == "g1.high")
            let envelope = try JSONCodec.decode(JobEnvelope.self, from: outbox[0].body)
            #expect(envelope.attempt == 1 && envelope.jobID == job.id && envelope.inputs == ["X": "1"])
            #expect(try await store.job(id: job.id)?.history?.map(\.to) == [.pending])
        }
    }

    @Test("an untargeted job's first message is stored as a reference to the job, and read built from its row")
    func firstDispatchReferencesTheJob() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            let stored = try await store.database.read { db in
                try Data.fetchOne(db, sql: "SELECT body FROM outbox WHERE jobID = ?", arguments: [job.id])
            }
            #expect(stored?.isEmpty == true)
            let row = try #require(try await store.outbox(limit: 10).first)
            let envelope = try JSONCodec.decode(JobEnvelope.self, from: row.body)
            #expect(envelope.bot == Self.bot && envelope.group == "g1" && envelope.priority == .high)
            #expect(envelope.jobToken != nil && row.messageID == envelope.messageID && row.routingKey == envelope.routingKey)
        }
    }

    @Test("the relay reads every column of a stored message as it was written")
    func outboxRowReadBack() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            try await store.markPublished(try store.outbox(limit: 10))
            let createdAt = Date(timeIntervalSince1970: 1_796_000_000.25)
            let written = OutboxRecord(id: nil, jobID: job.id, kind: .control, exchange: "botyard.control",
                                       routingKey: "worker.w7", headers: ["x-reason": "stop \"now\" é"],
                                       body: Data("{\"stop\":true}".utf8), messageID: "control-1", mandatory: true,
                                       createdAt: createdAt)
            let id = try await store.database.write { db in
                var record = written
                try record.insert(db)
                return record.id
            }
            let read = try #require(try await store.outbox(limit: 10).first)
            #expect(read.id == id && read.jobID == job.id && read.kind == .control)
            #expect(read.exchange == "botyard.control" && read.routingKey == "worker.w7" && read.mandatory)
            #expect(read.headers == ["x-reason": "stop \"now\" é"] && read.body == written.body)
            #expect(read.messageID == "control-1" && abs(read.createdAt.timeIntervalSince(createdAt)) < 0.001)
        }
    }

    @Test("the broker's confirm makes a pending job queued and empties the outbox")
    func confirm() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            try await store.markPublished(try store.outbox(limit: 10))
            #expect(try await store.job(id: job.id)?.state == .queued)
            #expect(try await store.outboxCount() == 0)
        }
    }

    @Test("confirmed rows that follow one another go by their range, others one by one: no row in between goes",
          arguments: [[0, 1, 2], [0, 2, 4], [1, 2, 3, 5], [4, 3]])
    func confirmedRowsOnly(confirmed: [Int]) async throws {
        try await withTemporaryStore { store, _ in
            var jobIDs: [Int64] = []
            for _ in 0..<6 { jobIDs.append(try await submitted(store).id) }
            let outbox = try await store.outbox(limit: 10)
            try await store.markPublished(confirmed.map { outbox[$0] })
            let left = Set(0..<6).subtracting(confirmed).sorted()
            #expect(try await store.outbox(limit: 10).map(\.id) == left.map { outbox[$0].id })
            for (index, jobID) in jobIDs.enumerated() {
                #expect(try await store.job(id: jobID)?.state == (confirmed.contains(index) ? .queued : .pending))
            }
        }
    }

    @Test("a confirm that arrives after the worker's start does not move the job back")
    func lateConfirm() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            let outbox = try await store.outbox(limit: 10)
            _ = try await store.apply(event(.started, job: job.id, attempt: 1), random: 0)
            try await store.markPublished(outbox)
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.state == .running)
            #expect(stored.history?.map(\.to) == [.pending, .queued, .running], "queued once, by the start")
        }
    }

    @Test("a first start's wait since submission is measured once, from the outcome when that counted the start")
    func startLatencyFigures() async throws {
        try await withTemporaryStore { store, _ in
            let success = JobOutcome(result: .succeeded, exitCode: 0, reason: "exit 0", durationMilliseconds: 0)
            let alone = try await submitted(store)
            let ended = try await store.apply([event(.finished, job: alone.id, attempt: 1, outcome: success)],
                                              heartbeats: [], commit: .atOnce).value
            #expect(ended.figures.map { $0.waited != nil } == [true], "the outcome counted the start")

            let paired = try await submitted(store)
            let started = try await store.apply([event(.started, job: paired.id, attempt: 1)], heartbeats: [],
                                                commit: .atOnce).value
            let finished = try await store.apply([event(.finished, job: paired.id, attempt: 1, outcome: success)],
                                                 heartbeats: [], commit: .atOnce).value
            #expect(started.figures.map { $0.waited != nil } == [true])
            #expect(finished.figures.map { $0.waited != nil } == [false], "the start was counted already")
            #expect(finished.figures.first?.ran == .zero)
        }
    }

    @Test("an event applied twice changes the job once")
    func idempotentEvents() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await store.apply(event(.started, job: job.id, attempt: 1), random: 0)
            let finished = event(.finished, job: job.id, attempt: 1, outcome: Self.failure)
            #expect(try await store.apply(finished, random: 0) == .applied(.retrying, publishes: true))
            #expect(try await store.apply(finished, random: 0) == .duplicate)
            #expect(try await store.outbox(limit: 10).filter { $0.kind == .retry }.count == 1)
        }
    }

    @Test("a failed attempt schedules the next one through the retry exchange with its wait")
    func retryScheduled() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            try await store.markPublished(try store.outbox(limit: 10))
            _ = try await run(store, job: job.id, attempt: 1, JobOutcome(result: .timedOut, reason: "timed out"))
            let retry = try #require(try await store.outbox(limit: 10).first)
            #expect(retry.exchange == Topology.retryExchange)
            #expect(retry.routingKey == "g1.high")
            #expect(retry.headers[Topology.retryDelayHeader] == "1500")
            #expect(try JSONCodec.decode(JobEnvelope.self, from: retry.body).attempt == 2)
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.state == .retrying)
            #expect(stored.reason == "attempt 1 failed: timed out")
        }
    }

    @Test("the last failed attempt makes the job dead and parks it in botyard.dead")
    func exhausted() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            for attempt in 1...2 {
                _ = try await run(store, job: job.id, attempt: attempt, Self.failure)
            }
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.state == .dead)
            #expect(stored.attempts == 2)
            #expect(stored.reason == "attempts exhausted (2 of 2); last: exit code 7")
            let dead = try await store.outbox(limit: 10).filter { $0.kind == .dead }
            #expect(dead.count == 1)
            #expect(dead[0].exchange == Topology.deadExchange)
            #expect(dead[0].headers[Topology.deadReasonHeader] == stored.reason)
            #expect(stored.history?.map(\.to) == [.pending, .queued, .running, .retrying, .running, .dead])
        }
    }

    @Test("outputs, exit code and log of a success are kept")
    func success() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await run(store, job: job.id, attempt: 1, JobOutcome(
                result: .succeeded, exitCode: 0, reason: "exit code 0", outputs: ["TOTAL": "12"], log: "hello\n"))
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.state == .succeeded && stored.exitCode == 0 && stored.outputs == ["TOTAL": "12"])
            #expect(stored.workerID == "w1" && stored.host == "h1" && stored.ranAs == "a1")
            #expect(try await store.log(jobID: job.id, attempt: nil) == "hello\n")
        }
    }

    @Test("a cancelled job's bot reported stopped twice for one attempt keeps the later log")
    func logKeptAgain() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await store.apply(event(.started, job: job.id, attempt: 1), random: 0)
            _ = try await store.cancel(jobID: job.id, reason: "operator")
            for log in ["stopping\n", "stopped\n"] {
                let stopped = JobOutcome(result: .failed, exitCode: 143, reason: "stopped", log: log)
                _ = try await store.apply(event(.finished, job: job.id, attempt: 1, outcome: stopped), random: 0)
            }
            #expect(try await store.log(jobID: job.id, attempt: 1) == "stopped\n")
            #expect(try await store.job(id: job.id)?.state == .cancelled)
        }
    }

    @Test("cancelling a waiting job drops its unpublished message and tells the group's workers")
    func cancel() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            guard case .cancelled(let cancelled) = try await store.cancel(jobID: job.id, reason: "operator") else {
                Issue.record("not cancelled")
                return
            }
            #expect(cancelled.state == .cancelled)
            let outbox = try await store.outbox(limit: 10)
            #expect(outbox.map(\.kind) == [.control])
            #expect(outbox[0].routingKey == "group.g1")
            guard case .alreadyFinished(.cancelled) = try await store.cancel(jobID: job.id, reason: "again") else {
                Issue.record("cancelled twice")
                return
            }
        }
    }

    @Test("a worker that starts a cancelled job is told to stop it")
    func startAfterCancel() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await store.cancel(jobID: job.id, reason: "operator")
            _ = try await store.apply(event(.started, job: job.id, attempt: 1), random: 0)
            #expect(try await store.outbox(limit: 10).map(\.routingKey).contains("worker.w1"))
            #expect(try await store.job(id: job.id)?.state == .cancelled)
        }
    }

    @Test("a redelivered copy of an attempt that was already judged does not run the job's count again, and is stopped")
    func supersededMessage() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await run(store, job: job.id, attempt: 1, Self.failure)
            // The worker's ack of attempt 1 was lost: the broker redelivers its message.
            let ghost = JobEvent(kind: .started, jobID: job.id, attempt: 2, envelopeAttempt: 1, runID: "ghost",
                                 workerID: "w2", host: "h2", account: nil)
            guard case .ignored = try await store.apply(ghost, random: 0) else {
                Issue.record("a superseded message was counted")
                return
            }
            #expect(try await store.job(id: job.id)?.state == .retrying)
            // Its bot would run the judged attempt again: its worker is told to stop that run.
            let stop = try #require(try await store.outbox(limit: 10).last)
            #expect(stop.routingKey == Topology.controlRoutingKey(workerID: "w2"))
            #expect(try JSONCodec.decode(ControlMessage.self, from: stop.body)
                == ControlMessage(command: .stopRun, jobID: job.id, runID: "ghost"))
            let real = JobEvent(kind: .started, jobID: job.id, attempt: 2, envelopeAttempt: 2, runID: "real",
                                workerID: "w1", host: "h1", account: nil)
            #expect(try await store.apply(real, random: 0) == .applied(.running, publishes: false))
            #expect(try await store.job(id: job.id)?.attempts == 2)
        }
    }

    @Test("after a rerun, only the outcome of the run that started last counts")
    func rerunOutcome() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await store.apply(event(.started, job: job.id, attempt: 1, run: "lost"), random: 0)
            _ = try await store.apply(event(.started, job: job.id, attempt: 2, envelope: 1, run: "rerun"), random: 0)
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.attempts == 2)
            #expect(stored.history?.last?.reason.contains("rerun") == true)
            let late = event(.finished, job: job.id, attempt: 1, run: "lost", outcome: Self.failure)
            #expect(try await store.apply(late, random: 0) == .ignored("outcome of a run that no longer counts"))
            let success = JobOutcome(result: .succeeded, exitCode: 0, reason: "exit code 0")
            let finished = event(.finished, job: job.id, attempt: 2, envelope: 1, run: "rerun", outcome: success)
            #expect(try await store.apply(finished, random: 0)
                == .applied(.succeeded, publishes: false))
        }
    }

    @Test("a rerun past the last attempt makes the job dead and stops the bot")
    func rerunPastLastAttempt() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)  // two attempts at most
            _ = try await store.apply(event(.started, job: job.id, attempt: 1, run: "a"), random: 0)
            _ = try await store.apply(event(.started, job: job.id, attempt: 2, envelope: 1, run: "b"), random: 0)
            #expect(try await store.apply(event(.started, job: job.id, attempt: 3, envelope: 1, run: "c"), random: 0)
                == .applied(.dead, publishes: true))
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.state == .dead)
            #expect(stored.reason == "attempts exhausted (2 of 2); last: worker lost during attempt 2")
            #expect(try await store.outbox(limit: 10).map(\.kind).contains(.control))
        }
    }

    @Test("a job's own retry policy and timeout win over its bot's")
    func jobOverrides() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let job = try await store.submit(SubmitJobRequest(bot: "echo", group: "g1", timeoutSeconds: 5,
                                                        retry: .fixed(maxAttempts: 4, waitMilliseconds: 300)), bot: Self.bot)
            #expect(job.maxAttempts == 4 && job.timeoutSeconds == 5)
            let envelope = try await JSONCodec.decode(JobEnvelope.self, from: try #require(try store.outbox(limit: 1).first).body)
            #expect(envelope.timeoutSeconds == 5 && envelope.maxAttempts == 4)
            _ = try await run(store, job: job.id, attempt: 1, Self.failure)
            let retry = try #require(try await store.outbox(limit: 10).first { $0.kind == .retry })
            #expect(retry.headers[Topology.retryDelayHeader] == "300")
        }
    }

    @Test("a run handed back at shutdown does not use up an attempt")
    func handedBack() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)  // two attempts at most
            for run in ["a", "b"] {
                _ = try await store.apply(event(.started, job: job.id, attempt: 1, run: run), random: 0)
                #expect(try await store.apply(event(.returned, job: job.id, attempt: 1, run: run), random: 0)
                    == .applied(.queued, publishes: false))
            }
            _ = try await store.apply(event(.started, job: job.id, attempt: 2, run: "c"), random: 0)
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.state == .running && stored.attempts == 1)
        }
    }

    @Test("a copy of a finished job's message that starts is stopped: the job never runs again")
    func copyOfFinishedJob() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await store.apply(event(.started, job: job.id, attempt: 1, run: "original"), random: 0)
            _ = try await store.apply(event(.finished, job: job.id, attempt: 1, run: "original",
                                            outcome: JobOutcome(result: .succeeded, reason: "exit code 0")), random: 0)
            // Its worker's ack was lost: the broker delivers the message again.
            let again = JobEvent(kind: .started, jobID: job.id, attempt: 2, envelopeAttempt: 1, runID: "again",
                                 workerID: "w2", host: "h2", account: nil)
            #expect(try await store.apply(again, random: 0)
                == .ignored("job is succeeded; told worker w2 to stop the copy"))
            let stop = try #require(try await store.outbox(limit: 10).last)
            #expect(try JSONCodec.decode(ControlMessage.self, from: stop.body)
                == ControlMessage(command: .stopRun, jobID: job.id, runID: "again"))
            #expect(try await store.job(id: job.id)?.state == .succeeded)
        }
    }

    @Test("a second copy of the running attempt's message is not a rerun, and is stopped")
    func duplicatePublish() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            _ = try await store.apply(event(.started, job: job.id, attempt: 1, run: "original"), random: 0)
            #expect(try await store.apply(event(.started, job: job.id, attempt: 1, run: "copy"), random: 0)
                == .ignored("second copy of the message of attempt 1"))
            #expect(try await store.job(id: job.id)?.attempts == 1)
            let stop = try #require(try await store.outbox(limit: 10).last)
            #expect(try JSONCodec.decode(ControlMessage.self, from: stop.body)
                == ControlMessage(command: .stopRun, jobID: job.id, runID: "copy"))
        }
    }

    @Test("a dead job is requeued as a new job with fresh attempts; the dead one names it")
    func requeueDead() async throws {
        try await withTemporaryStore { store, _ in
            let job = try await submitted(store)
            for attempt in 1...2 { _ = try await run(store, job: job.id, attempt: attempt, Self.failure) }
            guard case .requeued(let fresh) = try await store.requeueDead(jobID: job.id, initiator: "operator") else {
                Issue.record("not requeued")
                return
            }
            #expect(fresh.id != job.id && fresh.state == .pending && fresh.attempts == 0 && fresh.inputs == ["X": "1"])
            #expect(try await store.outbox(limit: 10)
                .filter { $0.kind == .dispatch && $0.jobID == fresh.id }.count == 1)
            let dead = try #require(try await store.job(id: job.id))
            #expect(dead.state == .dead)
            #expect(dead.history?.last?.reason == "requeued as job \(fresh.id)")
            guard case .notDead(.pending) = try await store.requeueDead(jobID: fresh.id, initiator: "operator") else {
                Issue.record("requeued a job that is not dead")
                return
            }
            let second = try await store.requeueDead(jobID: job.id, initiator: "operator")
            guard case .alreadyRequeued(fresh.id) = second else {
                Issue.record("requeued a dead job twice")
                return
            }
        }
    }

    @Test("dispatchers that open a store one migration behind at the same moment all open it: one migrates it")
    func openTogether() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("botyard.sqlite").path
            let file = try storeFile(at: path, migratedUpTo: "v16-retention")
            // Each opening reads what is applied, then waits for the writer; let go, one migrates.
            let writer = await HeldWriter.holding(file)
            try await withThrowingTaskGroup { group in
                for _ in 0..<4 { group.addTask { _ = try await BotyardStore.open(path: path, durability: .normal) } }
                try await Task.sleep(for: .milliseconds(200))
                _ = writer.letGo()
                try await group.waitForAll()
            }
            #expect(try await file.read(StoreMigrations.migrator().hasCompletedMigrations))
        }
    }

    @Test("the store survives being opened again, and keeps what was committed")
    func reopen() async throws {
        try await withTemporaryStore { store, path in
            let job = try await submitted(store)
            let reopened = try await BotyardStore.open(path: path)
            #expect(try await reopened.job(id: job.id)?.state == .pending)
            #expect(try await reopened.outboxCount() == 1)
        }
    }
}
