import Foundation
import Shared
import TestSupport
import Testing

/// Pause and resume, polite stops, business exceptions and account cleanups, with real workers and the
/// test broker.
@Suite("Bot controls", .serialized)
struct BotControlTests {
    @Test("a paused bot uses no CPU while paused (its utime does not advance), is not timed out for frozen time, and finishes after resume")
    func pauseAndResume() async throws {
        try await Fleet.run { fleet in
            let pidFile = fleet.folder.appendingPathComponent("spinner.pid").path
            let release = fleet.folder.appendingPathComponent("spinner.release").path
            // Spins on the CPU until the test releases it, against a 10 s timeout; it is kept frozen for 12 s,
            // so that it outlives its timeout in wall time only if frozen time counted. (The margins are wide:
            // the whole suite loads the machine, and the pause travels through the dispatcher and the broker.)
            try await fleet.register(CreateBotRequest(
                name: "spinner", argv: ["/bin/sh", "-c", "echo $$ > \"$0\"; i=0; while [ ! -e \"$1\" ]; do i=$((i+1)); done",
                                        pidFile, release],
                timeoutSeconds: 10, retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
            let id = try await fleet.submit(SubmitJobRequest(bot: "spinner", group: "g1"))
            // The shell makes the file before it writes the pid: wait for the pid, not the file.
            func writtenPID() -> pid_t? {
                (try? String(contentsOfFile: pidFile, encoding: .utf8))
                    .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            try await waitUntil(timeout: .seconds(20)) { writtenPID() != nil }
            let pid = try #require(writtenPID())
            // Only a job the dispatcher shows running can be paused; its start may be applied well
            // after the bot began (a start's report rides in the store's next commit), the more so on a
            // loaded machine: once, with a core kept busy, a pause 300 ms after the pid was refused.
            try await fleet.waitForJob(id, timeout: .seconds(20)) { $0.state == .running }

            let busy = try #require(cpuTicks(of: pid))
            try await Task.sleep(for: .milliseconds(300))

            // Resuming a running job is refused, and changes nothing.
            let early = try await fleet.api.send(.post, "/v1/jobs/\(id)/resume")
            #expect(early.status == .conflict)
            #expect(try early.errorCode() == "conflict")

            let paused = try await fleet.api.send(.post, "/v1/jobs/\(id)/pause")
            #expect(paused.status == .ok)
            #expect(try paused.decode(JobSnapshot.self).state == .paused)
            try await waitUntil(timeout: .seconds(8)) { processState(of: pid) == "T" }
            let frozen = try #require(cpuTicks(of: pid))
            try await Task.sleep(for: .seconds(12))
            let stillFrozen = try #require(cpuTicks(of: pid))
            print("paused bot \(pid): utime+stime \(busy) ticks running, \(frozen) at the pause, \(stillFrozen) 12 s later")
            #expect(frozen > busy, "the bot did not run before its pause")
            #expect(stillFrozen == frozen, "a paused bot used CPU")
            #expect(try await fleet.job(id).state == .paused)

            let resumed = try await fleet.api.send(.post, "/v1/jobs/\(id)/resume")
            #expect(resumed.status == .ok)
            #expect(try resumed.decode(JobSnapshot.self).state == .running)
            try await waitUntil(timeout: .seconds(5)) { processState(of: pid) != "T" }
            FileManager.default.createFile(atPath: release, contents: nil)
            let job = try await fleet.waitForJob(id, timeout: .seconds(20))
            #expect(job.state == .succeeded && job.attempts == 1, "\(job.reason ?? "")")
            #expect(job.history?.map(\.to).suffix(3) == [.paused, .running, .succeeded])

            // Pausing a finished job: 409, nothing changed.
            let late = try await fleet.api.send(.post, "/v1/jobs/\(id)/pause")
            #expect(late.status == .conflict)
            #expect(try late.decode(APIErrorBody.self).error.message == "job \(id) is succeeded; only a running job can be paused")
            #expect(try await fleet.job(id).history?.count == job.history?.count)
        }
    }

    @Test("a business exception is not retried and carries its reason; a crash is retried")
    func businessVersusSystem() async throws {
        try await Fleet.run { fleet in
            let retry = RetryPolicy.fixed(maxAttempts: 3, waitMilliseconds: 0)
            try await fleet.register(CreateBotRequest(
                name: "clerk", argv: ["/bin/sh", "-c", "echo 'BUSINESS_EXCEPTION=invoice 17 is already paid' > \"$BOTYARD_OUTPUT\"; exit 1"],
                timeoutSeconds: 30, retry: retry))
            try await fleet.register(CreateBotRequest(name: "crasher", argv: ["/bin/sh", "-c", "kill -SEGV $$"],
                                                      timeoutSeconds: 30, retry: retry))
            let business = try await fleet.waitForJob(try await fleet.submit(SubmitJobRequest(bot: "clerk", group: "g1")))
            #expect(business.state == .failed && business.attempts == 1 && business.failureKind == .business)
            #expect(business.reason == "business exception: invoice 17 is already paid")
            #expect(business.outputs["BUSINESS_EXCEPTION"] == "invoice 17 is already paid")

            let crash = try await fleet.waitForJob(try await fleet.submit(SubmitJobRequest(bot: "crasher", group: "g1")))
            #expect(crash.state == .dead && crash.attempts == 3 && crash.failureKind == .system)
            #expect(crash.history?.contains { $0.reason.hasPrefix("attempt 1 failed: killed by signal 11") } == true)
            print("business: \(business.state.rawValue) after \(business.attempts) attempt: \(business.reason ?? "");",
                  "crash: \(crash.state.rawValue) after \(crash.attempts) attempts: \(crash.reason ?? "")")
        }
    }

    @Test("polite stop: on cancel the bot sees its stop file, finishes its step and exits by itself within its grace, before any SIGTERM")
    func politeStop() async throws {
        try await Fleet.run { fleet in
            let marks = fleet.folder.appendingPathComponent("polite")
            let script = """
                trap 'echo TERM >> "$0"; exit 143' TERM
                echo started >> "$0"
                while [ ! -e "$BOTYARD_STOP_FILE" ]; do sleep 0.05; done
                echo saw-stop-file >> "$0"; sleep 1; echo step-finished >> "$0"
                """
            try await fleet.register(CreateBotRequest(name: "polite", argv: ["/bin/sh", "-c", script, marks.path],
                                                      timeoutSeconds: 60, stopGraceSeconds: 5))
            let id = try await fleet.submit(SubmitJobRequest(bot: "polite", group: "g1"))
            try await waitUntil(timeout: .seconds(20)) { (try? String(contentsOf: marks, encoding: .utf8)) == "started\n" }
            let cancelled = ContinuousClock.now
            #expect(try await fleet.api.send(.post, "/v1/jobs/\(id)/cancel").status == .ok)
            let job = try await fleet.waitForJob(id, timeout: .seconds(15)) { job in
                job.history?.contains { $0.reason.hasPrefix("bot stopped on host0") } == true
            }
            let took = ContinuousClock.now - cancelled
            let stopped = try #require(job.history?.last)
            print("polite stop after \(took): \(stopped.reason)")
            #expect(stopped.reason == "bot stopped on host0: cancelled while running; the bot finished on its stop request")
            #expect(try String(contentsOf: marks, encoding: .utf8) == "started\nsaw-stop-file\nstep-finished\n",
                    "the bot got SIGTERM, or did not finish its step")
            #expect(took < .seconds(5))
        }
    }

    @Test("after a killed attempt the account runs the bot's cleanup before its next job (stamps show the order)")
    func cleanupBeforeNextJob() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            let cleanupStamps = fleet.folder.appendingPathComponent("cleanups")
            let cleanup = try Self.cleanupScript(in: fleet.folder, stamps: cleanupStamps, exitCode: 0)
            try await fleet.register(bot.bot("desktop", seconds: 60, needsUI: true, cleanup: ["/bin/sh", cleanup.path],
                                             retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
            try await fleet.register(bot.bot("next", seconds: 0.1, needsUI: true))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("cleaner", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1"]))
                let killed = try await fleet.submit(SubmitJobRequest(bot: "desktop", group: "g1"))
                try await waitUntil(timeout: .seconds(20)) { !bot.runs().isEmpty }
                let next = try await fleet.submit(SubmitJobRequest(bot: "next", group: "g1"))
                let victim = try #require(bot.runs().first)
                kill(victim.pid, SIGKILL)

                let dead = try await fleet.waitForJob(killed)
                #expect(dead.state == .dead && dead.failureKind == .system)
                #expect(try await fleet.waitForJob(next, timeout: .seconds(30)).state == .succeeded)
                let withCleanup = try await fleet.waitForJob(killed, timeout: .seconds(10)) { job in
                    job.history?.contains { $0.reason.hasPrefix("cleanup after attempt 1 ran") } == true
                }
                #expect(withCleanup.history?.last?.reason
                    == "cleanup after attempt 1 ran on account robot1 on h1: exit code 0")
                let log = try await fleet.api.send(.get, "/v1/jobs/\(killed)/cleanup-log")
                #expect(String(buffer: log.body) == "resetting the desktop of robot1 after job \(killed)\n")
            }
            let cleanups = Self.stamps(cleanupStamps)
            let nextRun = try #require(bot.runs().first { $0.tag == "-" && $0.jobID != bot.runs().first?.jobID })
            print("killed bot started at \(bot.runs()[0].start), cleanup \(cleanups), next job started at \(nextRun.start)")
            #expect(cleanups.count == 1)
            if let (start, end) = cleanups.first {
                #expect(bot.runs()[0].start < start && end <= nextRun.start, "the next job started before the cleanup ended")
            }
        }
    }

    @Test("a failing cleanup holds its account with a visible reason (workers view, robot queue), across a worker restart, while other accounts go on; an operator clears it")
    func failingCleanupHoldsAccount() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            let cleanup = try Self.cleanupScript(in: fleet.folder, stamps: fleet.folder.appendingPathComponent("cleanups"),
                                                 exitCode: 3)
            try await fleet.register(bot.bot("stuck", seconds: 60, cleanup: ["/bin/sh", cleanup.path],
                                             timeoutSeconds: 1, retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
            try await fleet.register(bot.bot("quick", seconds: 0.1))
            let options = AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1", "robot2:1"])
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                var worker = try await workers.start("holder", options)
                for account in ["robot1", "robot2"] {
                    try await waitUntil(timeout: .seconds(20)) { try await fleet.account(account, of: "holder")?.served == true }
                }
                let waitQuickly = RobotQueuePolicy(waitSeconds: 1, maxAttempts: 50)
                let stuck = try await fleet.submit(SubmitJobRequest(bot: "stuck", group: "g1", account: "robot1", host: "h1"))
                #expect(try await fleet.waitForJob(stuck).state == .dead)
                let reason = "cleanup failed: exit code 3 (after job \(stuck), attempt 1)"
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "holder")?.hold == reason }
                let history = try await fleet.waitForJob(stuck, timeout: .seconds(10)) { job in
                    job.history?.contains { $0.reason.hasPrefix("cleanup after attempt 1 failed") } == true
                }
                #expect(history.history?.last?.reason == "cleanup after attempt 1 failed on account robot1 on h1: exit code 3; "
                    + "the account takes no jobs until an operator clears it")

                // A launch for the held account waits in the robot queue, saying why; the other account goes on.
                let waiting = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1", account: "robot1", host: "h1",
                                                                      robotQueue: waitQuickly))
                let other = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1", account: "robot2", host: "h1"))
                #expect(try await fleet.waitForJob(other).state == .succeeded)
                let heldReason = "account robot1 on h1 is held: \(reason); an operator must clear it"
                try await waitUntil(timeout: .seconds(10)) {
                    try await fleet.robotQueue().first { $0.jobID == waiting }?.reason == heldReason
                }
                #expect(try await fleet.robotQueue().first { $0.jobID == waiting }?.reason == heldReason)

                // The hold survives a restart of the worker.
                #expect(await worker.stop())
                worker = try await workers.start("holder-again", options)
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "holder-again")?.served == true }
                #expect(try await fleet.account("robot1", of: "holder-again")?.hold == reason)
                #expect(try await fleet.job(waiting).state == .pending)

                let cleared = try await fleet.api.send(.post, "/v1/hosts/h1/accounts/robot1/clear-hold")
                #expect(cleared.status == .accepted)
                #expect(try cleared.decode(HoldCleared.self).workers == ["holder-again"])
                #expect(try await fleet.waitForJob(waiting, timeout: .seconds(30)).state == .succeeded)
                #expect(try await fleet.account("robot1", of: "holder-again")?.hold == nil)
                let again = try await fleet.api.send(.post, "/v1/hosts/h1/accounts/robot1/clear-hold")
                #expect(again.status == .conflict)
                print("held: \(reason); cleared, then job \(waiting) ran on robot1")
            }
        }
    }

    @Test("a standby worker of the host that takes a held account over sees its hold: it consumes nothing there until an operator clears it")
    func standbySeesHold() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            let cleanup = try Self.cleanupScript(in: fleet.folder, stamps: fleet.folder.appendingPathComponent("cleanups"),
                                                 exitCode: 3)
            try await fleet.register(bot.bot("stuck", seconds: 60, cleanup: ["/bin/sh", cleanup.path],
                                             timeoutSeconds: 1, retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
            try await fleet.register(bot.bot("quick", seconds: 0.1))
            let options = AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1"])
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let serving = try await workers.start("hold-a", options)
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "hold-a")?.served == true }
                // Started before the hold exists: it read no hold file at its start.
                _ = try await workers.start("hold-b", options)
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "hold-b")?.served == false }

                let stuck = try await fleet.submit(SubmitJobRequest(bot: "stuck", group: "g1"))
                #expect(try await fleet.waitForJob(stuck).state == .dead)
                let reason = "cleanup failed: exit code 3 (after job \(stuck), attempt 1)"
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "hold-a")?.hold == reason }
                await serving.kill()
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "hold-b")?.served == true }
                #expect(try await fleet.account("robot1", of: "hold-b")?.hold == reason)

                let waiting = try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1"))
                try await Task.sleep(for: .seconds(3))
                #expect(try await fleet.job(waiting).state == .queued, "the standby ran a job on the held account")
                #expect(!bot.runs().contains { $0.jobID == waiting })

                let cleared = try await fleet.api.send(.post, "/v1/hosts/h1/accounts/robot1/clear-hold")
                #expect(cleared.status == .accepted)
                #expect(try cleared.decode(HoldCleared.self).workers.contains("hold-b"))
                let ran = try await fleet.waitForJob(waiting, timeout: .seconds(30))
                #expect(ran.state == .succeeded && ran.workerID == "hold-b")
                try await waitUntil(timeout: .seconds(15)) { try await fleet.account("robot1", of: "hold-b")?.hold == nil }
                print("standby hold-b took robot1 over held (\(reason)); job \(waiting) ran only after the clear")
            }
        }
    }

    @Test("after its worker is killed, the worker taking the account over kills the bot left behind and runs its cleanup before the rerun starts")
    func cleanupAfterWorkerCrash() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let bot = try StampBot(folder: fleet.folder)
            let cleanupStamps = fleet.folder.appendingPathComponent("cleanups")
            let cleanup = try Self.cleanupScript(in: fleet.folder, stamps: cleanupStamps, exitCode: 0)
            try await fleet.register(bot.bot("desktop", seconds: 60, laterSeconds: 0.2, cleanup: ["/bin/sh", cleanup.path]))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let options = AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1"])
                let first = try await workers.start("crash-a", options)
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "crash-a")?.served == true }
                _ = try await workers.start("crash-b", options)
                try await waitUntil(timeout: .seconds(20)) { try await fleet.account("robot1", of: "crash-b")?.served == false }

                let id = try await fleet.submit(SubmitJobRequest(bot: "desktop", group: "g1"))
                try await waitUntil(timeout: .seconds(20)) { !bot.runs().isEmpty }
                let orphan = try #require(bot.runs().first)
                let killedAt = StampBot.EndWatch.now()
                await first.kill()

                let job = try await fleet.waitForJob(id, timeout: .seconds(30))
                #expect(job.state == .succeeded && job.attempts == 2 && job.workerID == "crash-b")
                #expect(!isRunning(orphan.pid), "the bot the killed worker left behind still runs")
                let cleaned = try await fleet.waitForJob(id, timeout: .seconds(10)) { job in
                    job.history?.contains { $0.reason.hasPrefix("cleanup after attempt 1 ran") } == true
                }
                #expect(cleaned.history?.contains {
                    $0.reason == "cleanup after attempt 1 ran on account robot1 on h1: exit code 0"
                } == true)
                let cleanups = Self.stamps(cleanupStamps)
                let rerun = try #require(bot.runs().first { $0.attempt == 2 })
                print("worker killed at \(killedAt), cleanup \(cleanups), rerun started at \(rerun.start)")
                #expect(cleanups.count == 1)
                if let (start, end) = cleanups.first { #expect(killedAt < start && end <= rerun.start) }
            }
        }
    }

    /// A cleanup command that notes its start and end (ns) in `stamps`, says what it does, takes half a
    /// second and exits with `exitCode`.
    static func cleanupScript(in folder: URL, stamps: URL, exitCode: Int) throws -> URL {
        let script = folder.appendingPathComponent("cleanup-\(exitCode).sh")
        try """
        #!/bin/sh
        echo "start $(date +%s%N)" >> \(stamps.path)
        echo "resetting the desktop of $BOTYARD_ACCOUNT after job $BOTYARD_JOB_ID"
        sleep 0.5
        echo "end $(date +%s%N)" >> \(stamps.path)
        exit \(exitCode)
        """.write(to: script, atomically: true, encoding: .utf8)
        return script
    }

    /// (start, end) of each cleanup in `file`.
    static func stamps(_ file: URL) -> [(UInt64, UInt64)] {
        let lines = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n")
            .map { $0.split(separator: " ") }
        let starts = lines.filter { $0.first == "start" }.compactMap { UInt64($0[1]) }
        let ends = lines.filter { $0.first == "end" }.compactMap { UInt64($0[1]) }
        return Array(zip(starts, ends))
    }
}

/// utime + stime of a process, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
func cpuTicks(of pid: pid_t) -> Int? {
    guard let fields = statFields(of: pid), fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12])
    else { return nil }
    return user + system
}

/// The state letter of a process (`T` when stopped).
func processState(of pid: pid_t) -> String? {
    statFields(of: pid)?.first.map(String.init)
}

/// The fields of `/proc/<pid>/stat` after the command name (the first is field 3, the state).
private func statFields(of pid: pid_t) -> [Substring]? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ")
}
