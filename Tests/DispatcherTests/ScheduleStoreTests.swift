import Foundation
import Shared
import Testing

@testable import Dispatcher

/// Schedules driven through the store with an injected clock: each pass handles the firings due
/// at the instant it is given, claims them in the store, and leaves a history.
@Suite("Schedules in the store")
struct ScheduleStoreTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let bot = BotDefinition(name: "reporter", argv: ["/bin/true"], timeoutSeconds: 7200,
                                   retry: .fixed(maxAttempts: 1, waitMilliseconds: 0))
    /// Tuesday 2026-12-01 06:00 in Berlin: before the 07:00 firings.
    static let t0 = at("2026-12-01 06:00")

    /// The instant `yyyy-MM-dd HH:mm` on Berlin's clocks.
    static func at(_ text: String) -> Date {
        let parts = text.split(whereSeparator: { " -:".contains($0) }).compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = berlin
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3],
                                                  minute: parts[4]))!
    }

    static func daily(_ name: String = "morning", cron: String = "0 7 * * *", calendar: String? = nil,
                      window: ActiveWindow? = nil, missed: MissedRunPolicy = .runOnce) -> ScheduleDefinition {
        ScheduleDefinition(name: name, target: .bot(ScheduledJob(bot: "reporter", group: "g1")), cron: cron,
                           timeZone: "Europe/Berlin", calendar: calendar, window: window, missedRunPolicy: missed)
    }

    func withSchedule(_ definition: ScheduleDefinition = daily(),
                      _ body: (BotyardStore, String) async throws -> Void) async throws {
        try await withTemporaryStore { store, path in
            try await store.saveBot(Self.bot)
            guard case .saved = try await store.saveSchedule(definition, at: Self.t0) else {
                Issue.record("schedule not saved")
                return
            }
            try await body(store, path)
        }
    }

    func scheduledJobs(_ store: BotyardStore) async throws -> [JobSnapshot] {
        try await store.jobs(JobFilter(limit: 1000)).filter { $0.launchMethod == .schedule }
    }

    func history(_ store: BotyardStore, _ name: String = "morning") async throws -> [ScheduleFiring] {
        try #require(try await store.firings(ofSchedule: name))
    }

    @Test("a saved schedule shows its next five firings on its zone's clocks, across the change to winter time")
    func nextFiveFirings() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let saved = try await store.saveSchedule(Self.daily(cron: "30 2 * * *"), at: Self.at("2026-10-23 12:00"))
            guard case .saved(let schedule, let created) = saved else { throw Unexpected.result("\(saved)") }
            #expect(created)
            #expect(schedule.nextFirings.map(\.local) == [
                "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
                "2026-10-27T02:30:00+01:00", "2026-10-28T02:30:00+01:00",
            ])
        }
    }

    @Test("a firing handled on time submits the bot's job as a schedule launch and moves the schedule to its next firing")
    func firesOnTime() async throws {
        try await withSchedule { store, _ in
            let seven = Self.at("2026-12-01 07:00")
            #expect(try await store.fireDueSchedules(at: seven - 0.001)
                == SchedulePass(handled: 0, started: 0, next: seven))
            let pass = try await store.fireDueSchedules(at: seven + 0.02)
            let job = try #require(try await scheduledJobs(store).first)
            #expect(pass == SchedulePass(handled: 1, started: 1, starts: ["morning": ["job \(job.id)"]],
                                         next: Self.at("2026-12-02 07:00")))
            #expect(job.initiator == "schedule morning" && job.group == "g1" && job.state == .pending)
            let firing = try #require(try await history(store).first)
            #expect(firing.outcome == .started && firing.reason == "on time" && firing.jobID == job.id)
            #expect(firing.scheduledFor == seven && firing.latenessMilliseconds == 20)
            #expect(firing.startedState == "pending")
            #expect(try await store.fireDueSchedules(at: seven + 1).handled == 0, "a firing is handled once")
        }
    }

    @Test("two dispatchers on one store never start the same firing twice: the firing is claimed in the store")
    func twoDispatchersOneFiring() async throws {
        try await withSchedule { store, path in
            let other = try await BotyardStore.open(path: path, durability: .normal)
            let seven = Self.at("2026-12-01 07:00")
            async let first = Task { try await store.fireDueSchedules(at: seven + 0.01) }.value
            async let second = Task { try await other.fireDueSchedules(at: seven + 0.01) }.value
            let passes = try await [first, second]
            #expect(passes.map(\.handled).sorted() == [0, 1])
            #expect(try await scheduledJobs(store).count == 1)
            #expect(try await history(store).count == 1)
        }
    }

    @Test("runOnce: a dispatcher back after three missed firings starts one run that says so; then on time again")
    func missedRunOnce() async throws {
        try await withSchedule(Self.daily(missed: .runOnce)) { store, _ in
            let back = Self.at("2026-12-03 09:30")
            #expect(try await store.fireDueSchedules(at: back).started == 1)
            #expect(try await scheduledJobs(store).count == 1)
            let firing = try #require(try await history(store).first)
            #expect(firing.outcome == .started && firing.missedFirings == 3)
            #expect(firing.scheduledFor == Self.at("2026-12-03 07:00"))
            #expect(firing.reason.hasSuffix("while no dispatcher ran: one run for them (missed-run policy runOnce)"))
            #expect(try await store.schedule(named: "morning")?.nextFirings.first?.at == Self.at("2026-12-04 07:00"))
        }
    }

    @Test("skip: a dispatcher back after a missed firing starts nothing and records the skip")
    func missedSkip() async throws {
        try await withSchedule(Self.daily(missed: .skip)) { store, _ in
            let pass = try await store.fireDueSchedules(at: Self.at("2026-12-01 07:05"))
            #expect(pass.handled == 1 && pass.started == 0)
            #expect(try await scheduledJobs(store).isEmpty)
            let firing = try #require(try await history(store).first)
            #expect(firing.outcome == .skipped && firing.jobID == nil)
            #expect(firing.reason.hasSuffix("while no dispatcher ran: skipped (missed-run policy skip)"))
        }
    }

    @Test("a firing whose run is unlikely to end before the window closes is skipped with the bot's p90 as its reason")
    func windowClosesBeforeP90() async throws {
        let window = try ActiveWindow(parsing: "Mon-Fri 08:00-18:00")
        try await withSchedule(Self.daily(cron: "30 17 * * *", window: window)) { store, _ in
            // Three runs of the bot took 40, 45 and 50 minutes.
            for (index, minutes) in [40.0, 45, 50].enumerated() {
                try await runBot(store, from: Self.at("2026-11-2\(index + 1) 09:00"), minutes: minutes)
            }
            #expect(try await store.fireDueSchedules(at: Self.at("2026-12-01 17:30")).started == 0)
            let firing = try #require(try await history(store).first)
            #expect(firing.outcome == .skipped && firing.p90RunSeconds == 3000)
            #expect(firing.windowClosesAt == Self.at("2026-12-01 18:00"))
            #expect(firing.reason == "on time; not started: unlikely to finish before its window closes "
                + "(p90 run time 50 min, window closes in 30 min)")
            #expect(try await scheduledJobs(store).count == 0)
        }
    }

    @Test("a firing outside the window starts nothing; one inside it with no run history starts")
    func outsideTheWindow() async throws {
        let window = try ActiveWindow(parsing: "Mon-Fri 08:00-18:00")
        try await withSchedule(Self.daily(cron: "0 7,12 * * *", window: window)) { store, _ in
            _ = try await store.fireDueSchedules(at: Self.at("2026-12-01 07:00"))
            _ = try await store.fireDueSchedules(at: Self.at("2026-12-01 12:00"))
            let firings = try await history(store)
            #expect(firings.map(\.outcome) == [.started, .skipped])
            #expect(firings.last?.reason == "on time; not started: outside its active window (Mon–Fri 08:00–18:00)")
        }
    }

    @Test("a paused schedule starts nothing; resumed, it waits for its next firing and makes none up")
    func pauseAndResume() async throws {
        try await withSchedule { store, _ in
            let paused = try #require(try await store.setSchedule("morning", enabled: false, at: Self.t0))
            #expect(paused.nextFirings.isEmpty && !paused.definition.enabled)
            #expect(try await store.fireDueSchedules(at: Self.at("2026-12-02 08:00")).handled == 0)
            let resumed = try #require(try await store.setSchedule("morning", enabled: true,
                                                                   at: Self.at("2026-12-02 08:00")))
            #expect(resumed.nextFirings.first?.at == Self.at("2026-12-03 07:00"))
            #expect(try await history(store).isEmpty)
            #expect(try await store.setSchedule("nothing", enabled: true) == nil)
        }
    }

    @Test("a schedule of a pipeline starts a run, and its history names the run")
    func pipelineTarget() async throws {
        try await withPipelineSchedule("monthly", cron: "0 7 1 * *", savedAt: Self.at("2026-11-30 12:00")) { store in
            #expect(try await store.fireDueSchedules(at: Self.at("2026-12-01 07:00")).started == 1)
            let firing = try #require(try await history(store, "monthly").first)
            let runID = try #require(firing.pipelineRunID)
            #expect(try await store.run(.pipeline, id: runID)?.initiator == "schedule monthly")
            #expect(firing.startedState == "running")
        }
    }

    @Test("no firing on a calendar's non-working date; a changed calendar moves the next firing")
    func calendarDates() async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            let december2 = try LocalDate(parsing: "2026-12-02")
            #expect(try await store.saveCalendar(WorkingDayCalendar(name: "holidays", nonWorkingDates: [december2]),
                                                 at: Self.t0))
            guard case .saved(let saved, _) = try await store.saveSchedule(Self.daily(calendar: "holidays"),
                                                                           at: Self.at("2026-12-01 08:00")) else {
                throw Unexpected.result("not saved")
            }
            #expect(saved.nextFirings.first?.at == Self.at("2026-12-03 07:00"))
            #expect(try await !store.saveCalendar(WorkingDayCalendar(name: "holidays"),
                                                  at: Self.at("2026-12-01 09:00")))
            #expect(try await store.schedule(named: "morning")?.nextFirings.first?.at == Self.at("2026-12-02 07:00"))
            #expect(try await store.deleteCalendar(named: "holidays") == .inUse(["morning"]))
            #expect(try await store.deleteSchedule(named: "morning"))
            #expect(try await store.deleteCalendar(named: "holidays") == .deleted)
            #expect(try await store.deleteCalendar(named: "holidays") == .notFound)
        }
    }

    @Test("a schedule naming a bot, pipeline or calendar that does not exist, or a window its cron never fires in, is refused with every reason")
    func invalidSchedules() async throws {
        try await withTemporaryStore { store, _ in
            let unknown = ScheduleDefinition(name: "x", target: .pipeline("nope"), cron: "0 7 * * *", calendar: "none")
            guard case .invalid(let problems) = try await store.saveSchedule(unknown) else {
                throw Unexpected.result("saved")
            }
            #expect(problems == ["no pipeline named 'nope'", "no calendar named 'none'"])
            try await store.saveBot(Self.bot)
            let weekend = Self.daily(cron: "0 7 * * Sat", window: try ActiveWindow(parsing: "Mon-Fri 06:00-18:00"))
            guard case .invalid(let never) = try await store.saveSchedule(weekend) else {
                throw Unexpected.result("saved")
            }
            #expect(never == ["window: none of its next 1000 firings falls inside Mon–Fri 06:00–18:00, "
                + "so it never starts a run"])
        }
    }

    @Test("a firing whose pipeline was deleted since records that it could not start anything")
    func pipelineGone() async throws {
        try await withPipelineSchedule("daily", cron: "0 7 * * *", savedAt: Self.t0) { store in
            #expect(try await store.deleteFlow(kind: .pipeline, name: "month-end"))
            #expect(try await store.fireDueSchedules(at: Self.at("2026-12-01 07:00")).started == 0)
            let firing = try #require(try await history(store, "daily").first)
            #expect(firing.outcome == .failed && firing.reason == "on time; no pipeline named 'month-end' any more")
        }
    }

    @Test("a schedule whose stored zone can no longer be read is paused with a failed firing; the others still fire")
    func unreadableZone() async throws {
        try await withSchedule { store, _ in
            let evening = Self.daily("evening", cron: "0 7 * * *")
            guard case .saved = try await store.saveSchedule(evening, at: Self.t0) else {
                throw Unexpected.result("not saved")
            }
            try await store.database.write { db in
                try db.execute(sql: """
                    UPDATE schedules SET definition = json_set(definition, '$.timeZone', 'Nowhere/Gone')
                    WHERE name = 'morning'
                    """)
            }
            let pass = try await store.fireDueSchedules(at: Self.at("2026-12-01 07:00"))
            #expect(pass.handled == 2 && pass.started == 1)
            let failed = try #require(try await history(store).first)
            #expect(failed.outcome == .failed)
            #expect(failed.reason == "cannot read its schedule any more (unknown time zone 'Nowhere/Gone'); "
                + "paused until it is saved again")
            #expect(try await store.fireDueSchedules(at: Self.at("2026-12-02 07:00")).handled == 1)
            #expect(try await history(store, "evening").map(\.outcome) == [.started, .started])
        }
    }

    /// A store with the one-step pipeline `month-end` and a schedule `name` of it, saved at `savedAt`.
    func withPipelineSchedule(_ name: String, cron: String, savedAt: Date,
                              _ body: (BotyardStore) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(Self.bot)
            _ = try await store.saveFlow(PipelineDefinition(name: "month-end", group: "g1",
                                                            steps: [PipelineStep(bot: "reporter")]), replace: false)
            let definition = ScheduleDefinition(name: name, target: .pipeline("month-end"), cron: cron,
                                                timeZone: "Europe/Berlin")
            guard case .saved = try await store.saveSchedule(definition, at: savedAt) else {
                throw Unexpected.result("not saved")
            }
            try await body(store)
        }
    }

    /// Runs the bot once through the store's own paths: submitted, started and succeeded `minutes` later.
    func runBot(_ store: BotyardStore, from start: Date, minutes: Double) async throws {
        let job = try await store.submit(SubmitJobRequest(bot: "reporter", group: "g1"), bot: Self.bot, at: start)
        func event(_ kind: JobEvent.Kind, _ outcome: JobOutcome?, at now: Date) -> JobEvent {
            JobEvent(kind: kind, jobID: job.id, attempt: 1, runID: "run-\(job.id)", workerID: "w1", host: "h1",
                     account: "a1", at: now, outcome: outcome)
        }
        _ = try await store.apply(event(.started, nil, at: start), random: 0, at: start)
        let end = start.addingTimeInterval(minutes * 60)
        let outcome = JobOutcome(result: .succeeded, exitCode: 0, reason: "exit")
        _ = try await store.apply(event(.finished, outcome, at: end),
                                  random: 0, at: end)
    }

    enum Unexpected: Error { case result(String) }
}
