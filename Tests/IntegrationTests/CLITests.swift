import Foundation
import Shared
import TestSupport
import Testing

/// The `botyard` command line, run as a program against a dispatcher and worker of the test
/// broker: every command, with `--output json` (decoded as the API's types) and as tables.
@Suite("The botyard command line")
struct CLITests {
    /// Runs the `botyard` binary built next to the tests with the fleet's URL and a token.
    struct CLI {
        static let binary = WorkerProcess.binaries.appendingPathComponent("botyard")
        var url: String
        var token: String?

        init(_ fleet: Fleet) {
            url = fleet.httpURL
            token = fleet.api.token
        }

        func run(_ arguments: [String], token: String? = nil, input: String = "") async throws -> CommandResult {
            try await runCommand(Self.binary, arguments,
                                 environment: ["BOTYARD_URL": url, "BOTYARD_TOKEN": token ?? self.token ?? ""],
                                 input: input)
        }

        /// What the command printed; the test fails unless it exited 0.
        @discardableResult
        func succeed(_ arguments: String..., input: String = "") async throws -> String {
            let result = try await run(arguments, input: input)
            #expect(result.status == 0, "botyard \(arguments.joined(separator: " ")): \(result.errors)")
            return result.output
        }

        /// The command's `--output json` answer, decoded.
        func json<Answer: Decodable>(_ type: Answer.Type, _ arguments: String...) async throws -> Answer {
            var arguments = arguments
            arguments.insert(contentsOf: ["--output", "json"], at: arguments.firstIndex(of: "--") ?? arguments.endIndex)
            let result = try await run(arguments)
            try #require(result.status == 0, "botyard \(arguments.joined(separator: " ")): \(result.errors)")
            return try JSONCodec.decode(type, from: Data(result.output.utf8))
        }

        /// The error the command printed; the test fails unless it exited with `status`.
        func fail(_ arguments: [String], token: String? = nil, status: Int32 = 1) async throws -> String {
            let result = try await run(arguments, token: token)
            #expect(result.status == status, "botyard \(arguments.joined(separator: " ")): \(result.output)")
            return result.errors
        }
    }

    struct Message: Decodable, Equatable { var message: String }

    @Test("bots and jobs: add-bot, bots, submit (--wait exits 4 unless succeeded), jobs, job, log, cancel, pause, resume, dead, requeue")
    func botsAndJobs() async throws {
        try await Fleet.run { fleet in
            let cli = CLI(fleet)
            #expect(try await cli.succeed("add-bot", "--name", "echo", "--timeout", "30", "--", "/bin/echo", "hello")
                        .hasPrefix("bot echo v1: /bin/echo hello"))
            _ = try await cli.json(BotDefinition.self, "add-bot", "--name", "sleepy", "--", "/bin/sleep", "30")
            let broken = try await cli.json(BotDefinition.self, "add-bot", "--name", "broken", "--max-attempts", "1",
                                            "--", "/bin/false")
            #expect(broken.retry.maxAttempts == 1 && broken.argv == ["/bin/false"])
            let bots = try await cli.json([BotDefinition].self, "bots")
            #expect(bots.map(\.name).sorted() == ["broken", "echo", "sleepy"])
            #expect(try await cli.succeed("bots").contains("sleepy"))
            #expect(try await cli.json(BotDefinition.self, "bot", "broken").argv == ["/bin/false"])
            #expect(try await cli.succeed("health").hasSuffix(": ok\n"))

            let done = try await cli.json(JobSnapshot.self, "submit", "echo", "--group", "g1", "--admission", "queue",
                                          "--wait")
            #expect(done.state == .succeeded && done.launchMethod == .manual && done.initiator == "cli")
            let failed = try await cli.run(["submit", "broken", "--group", "g1", "--admission", "queue", "--wait"])
            #expect(failed.status == 4 && failed.output.contains("broken"))
            let listed = try await cli.json([JobSnapshot].self, "jobs", "--bot", "echo")
            #expect(listed.map(\.id) == [done.id])
            let shown = try await cli.json(JobSnapshot.self, "job", "\(done.id)")
            #expect(shown.history?.last?.to == .succeeded)
            #expect(try await cli.succeed("job", "\(done.id)").contains("manual by cli"))
            struct Log: Decodable { var job: Int64; var cleanup: Bool; var log: String }
            let log = try await cli.json(Log.self, "log", "\(done.id)")
            #expect(log.job == done.id && !log.cleanup && log.log.contains("hello"))
            #expect(try await cli.succeed("log", "\(done.id)").contains("hello"))

            let slow = try await cli.json(JobCreated.self, "submit", "sleepy", "--group", "g1", "--admission", "queue")
            try await fleet.waitForJob(slow.id) { $0.state == .running }
            #expect(try await cli.json(JobSnapshot.self, "jobs", "pause", "\(slow.id)").state == .paused)
            #expect(try await cli.succeed("jobs", "resume", "\(slow.id)") == "job \(slow.id) running\n")
            #expect(try await cli.json(JobSnapshot.self, "cancel", "\(slow.id)").id == slow.id)
            #expect(try await fleet.waitForJob(slow.id).state == .cancelled)

            let dead = try await cli.json([JobSnapshot].self, "dead")
            let parked = try #require(dead.first)
            #expect(dead.count == 1 && parked.bot == "broken" && parked.state == .dead)
            let requeued = try await cli.json(JobCreated.self, "requeue", "\(parked.id)")
            #expect(requeued.id != parked.id)
            let error = try await cli.fail(["job", "999999"])
            #expect(error.contains("not_found, HTTP 404"))
            #expect(try await cli.fail(["log", "\(done.id)", "--cleanup"]).contains("HTTP 404"))

            let batch = fleet.folder.appendingPathComponent("batch.json")
            try Data(#"[{"bot": "echo", "group": "g1"}, {"bot": "echo", "group": "g1", "inputs": {"N": "2"}}]"#.utf8)
                .write(to: batch)
            let created = try await cli.json(JobBatchCreated.self, "submit-batch", "-f", batch.path)
            #expect(created.jobs.count == 2)
            for job in created.jobs { #expect(try await fleet.waitForJob(job.id).state == .succeeded) }
            let stats = try await cli.json(DispatcherStats.self, "stats")
            // echo three times, the broken job and its requeued copy, the cancelled sleeper.
            #expect(stats.jobs["succeeded"] == 3 && stats.jobs["cancelled"] == 1)
            #expect(stats.jobs.values.reduce(0, +) == 6)
            #expect(try await cli.succeed("stats").contains("outbox: 0"))
        }
    }

    @Test("the fleet: workers, groups, set-group, robot-queue, set-credential (password on standard input), clear-hold")
    func fleetCommands() async throws {
        try await Fleet.run { fleet in
            let cli = CLI(fleet)
            var workers: [WorkerStatus] = []
            for _ in 0..<100 where workers.isEmpty {
                workers = try await cli.json([WorkerStatus].self, "workers")
                if workers.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(workers.map(\.group) == ["g1"] && workers.first?.accounts.map(\.name) == ["robot0"])
            let table = try await cli.succeed("workers")
            #expect(table.contains("w0-") && table.contains("robot0:"), "\(table)")
            let group = try await cli.json(GroupStatus.self, "set-group", "g1", "--max-queued", "7",
                                           "--admission", "manual=queue")
            #expect(group.maxQueued == 7 && group.launchAdmission[.manual] == .queue)
            #expect(try await cli.json([GroupStatus].self, "groups").first { $0.name == "g1" }?.maxQueued == 7)
            #expect(try await cli.succeed("groups").contains("Admission of a launch"))
            #expect(try await cli.json([RobotQueueEntry].self, "robot-queue").isEmpty)
            #expect(try await cli.succeed("set-credential", "host0", "robot0", "--username", "svc", input: "s3cret\n")
                        == "credential of robot0 on host0 stored\n")
            let credentials = try await cli.json([CredentialSummary].self, "credentials")
            #expect(credentials.map(\.username) == ["svc"] && credentials.first?.account == "robot0")
            #expect(try await cli.succeed("credentials").contains("svc"))
            #expect(try await cli.fail(["clear-hold", "host0", "robot0"]).contains("is not held"))
        }
    }

    @Test("work queues, items and triggers: queue set/list/show/add/add-bulk/items/delete, item claim/extend/complete/fail/show, trigger set/list/show/delete")
    func workQueues() async throws {
        try await Fleet.run { fleet in
            let cli = CLI(fleet)
            try await cli.succeed("add-bot", "--name", "poster", "--", "/bin/true")
            #expect(try await cli.json(WorkQueueDefinition.self, "queue", "set", "invoices", "--lease-seconds", "60")
                        .leaseSeconds == 60)
            #expect(try await cli.json([WorkQueueDefinition].self, "queue", "list").map(\.name) == ["invoices"])
            let first = try await cli.json(WorkItemSnapshot.self, "queue", "add", "invoices", "--payload", #"{"n": 1}"#,
                                           "--reference", "r1")
            let bulk = fleet.folder.appendingPathComponent("items.json")
            try Data(#"[{"payload": {"n": 2}}, {"payload": {"n": 3}}]"#.utf8).write(to: bulk)
            let added = try await cli.succeed("queue", "add-bulk", "invoices", "-f", bulk.path)
            #expect(added == "2 items added to invoices\n")
            #expect(try await cli.json([WorkItemSnapshot].self, "queue", "items", "invoices").count == 3)

            let claimed = try await cli.json(ClaimedItem.self, "item", "claim", "invoices")
            #expect(claimed.item.id == first.id)
            let held = try await cli.json(WorkItemSnapshot.self, "item", "extend", "\(claimed.item.id)",
                                          "--token", claimed.leaseToken)
            #expect(held.leaseExpiresAt != nil)
            let completed = try await cli.json(WorkItemSnapshot.self, "item", "complete", "\(claimed.item.id)",
                                               "--token", claimed.leaseToken, "--result", #"{"posted": true}"#)
            #expect(completed.state == .successful && completed.output == .object(["posted": .bool(true)]))
            let shell = try await cli.succeed("item", "claim", "invoices", "--format", "shell")
            let token = try #require(shell.firstMatch(of: /BOTYARD_ITEM_TOKEN='([^']+)'/)?.1)
            let id = try #require(shell.firstMatch(of: /BOTYARD_ITEM_ID='(\d+)'/)?.1)
            #expect(try await cli.succeed("item", "fail", String(id), "--token", String(token), "--kind", "business",
                                          "--reason", "no customer") == "item \(id) failed\n")
            #expect(try await cli.succeed("item", "show", String(id)).contains("no customer"))
            struct QueueView: Decodable { var counts: [String: Int] }
            let counts = try await cli.json(QueueView.self, "queue", "show", "invoices").counts
            #expect(counts["successful"] == 1 && counts["failed"] == 1 && counts["new"] == 1)

            let trigger = try await cli.json(QueueTriggerSnapshot.self, "trigger", "set", "invoices", "--bot", "poster",
                                             "--group", "g1", "--disabled")
            #expect(trigger.definition.bot == "poster" && !trigger.definition.enabled)
            #expect(try await cli.json([QueueTriggerSnapshot].self, "trigger", "list").count == 1)
            #expect(try await cli.succeed("trigger", "show", "invoices").contains("queue invoices: bot poster on g1"))
            #expect(try await cli.json(Message.self, "trigger", "delete", "invoices")
                        == Message(message: "trigger of queue invoices deleted"))
            #expect(try await cli.succeed("queue", "delete", "invoices") == "queue invoices deleted\n")
            #expect(try await cli.fail(["queue", "show", "invoices"]).contains("HTTP 404"))
        }
    }

    @Test("schedules and calendars: calendar set/list/show/delete, schedule set/list/show/pause/resume/history/delete")
    func schedules() async throws {
        try await Fleet.run { fleet in
            let cli = CLI(fleet)
            try await cli.succeed("add-bot", "--name", "report", "--", "/bin/true")
            let calendar = try await cli.json(WorkingDayCalendar.self, "calendar", "set", "holidays",
                                              "--date", "2030-12-25", "--date", "2030-12-26")
            #expect(calendar.nonWorkingDates.count == 2)
            #expect(try await cli.json([WorkingDayCalendar].self, "calendar", "list").map(\.name) == ["holidays"])
            #expect(try await cli.succeed("calendar", "show", "holidays").contains("2030-12-25"))
            let schedule = try await cli.json(ScheduleSnapshot.self, "schedule", "set", "nightly", "--bot", "report",
                                              "--group", "g1", "--cron", "0 3 * * *", "--time-zone", "Europe/Berlin")
            #expect(schedule.definition.cron == "0 3 * * *" && schedule.nextFirings.count == 5)
            #expect(try await cli.json([ScheduleSnapshot].self, "schedule", "list").count == 1)
            #expect(try await cli.succeed("schedule", "show", "nightly").contains("'0 3 * * *' in Europe/Berlin"))
            let paused = try await cli.json(ScheduleSnapshot.self, "schedule", "pause", "nightly")
            #expect(paused.definition.enabled == false)
            #expect(try await cli.succeed("schedule", "resume", "nightly").hasPrefix("schedule nightly resumed"))
            #expect(try await cli.json([ScheduleFiring].self, "schedule", "history", "nightly").isEmpty)
            #expect(try await cli.succeed("schedule", "delete", "nightly") == "schedule nightly deleted\n")
            #expect(try await cli.json(Message.self, "calendar", "delete", "holidays")
                        == Message(message: "calendar holidays deleted"))
        }
    }

    @Test("pipelines and workflows: set --file, list, show, start --wait, runs, run; a command on an ended run is refused")
    func flows() async throws {
        try await Fleet.run { fleet in
            let cli = CLI(fleet)
            try await cli.succeed("add-bot", "--name", "step", "--", "/bin/true")
            let pipelineFile = fleet.folder.appendingPathComponent("pipeline.json")
            try Data(#"{"name": "month-end", "group": "g1", "steps": [{"bot": "step"}, {"bot": "step"}]}"#.utf8)
                .write(to: pipelineFile)
            let saved = try await cli.succeed("pipeline", "set", "--file", pipelineFile.path)
            #expect(saved == "pipeline month-end saved\n")
            #expect(try await cli.json([PipelineDefinition].self, "pipeline", "list").map(\.name) == ["month-end"])
            #expect(try await cli.json(PipelineDefinition.self, "pipeline", "show", "month-end").steps.count == 2)
            let run = try await cli.json(FlowRunSnapshot.self, "pipeline", "start", "month-end", "--wait")
            #expect(run.state == .succeeded && run.steps?.count == 2)
            #expect(try await cli.json([FlowRunSnapshot].self, "pipeline", "runs", "month-end").map(\.id) == [run.id])
            let shown = try await cli.succeed("pipeline", "run", "\(run.id)")
            #expect(shown.contains("pipeline run \(run.id) (month-end)"))
            #expect(try await cli.fail(["pipeline", "cancel", "\(run.id)"]).contains("HTTP 409"))

            let workflowFile = fleet.folder.appendingPathComponent("workflow.json")
            try Data(#"""
                {"name": "intake", "group": "g1", "nodes": [{"id": "a", "bot": "step"}, {"id": "b", "bot": "step"}],
                 "edges": [{"from": "a", "to": "b"}]}
                """#.utf8).write(to: workflowFile)
            let workflow = try await cli.json(WorkflowDefinition.self, "workflow", "set", "--file", workflowFile.path)
            #expect(workflow.name == "intake")
            let flow = try await cli.json(FlowRunSnapshot.self, "workflow", "start", "intake", "--wait")
            #expect(flow.state == .succeeded && flow.steps?.map(\.id) == ["a", "b"])
            #expect(try await cli.succeed("workflow", "delete", "intake") == "workflow intake deleted\n")
        }
    }

    @Test("tokens, audit and whoami; no token or a lesser role is refused with the API's code; --token-file")
    func access() async throws {
        try await Fleet.run { fleet in
            let cli = CLI(fleet)
            try await cli.succeed("add-bot", "--name", "echo", "--", "/bin/true")
            let created = try await cli.json(CreatedAPIToken.self, "tokens", "create", "--name", "wall",
                                             "--role", "viewer")
            #expect(created.token.role == .viewer && created.secret.hasPrefix("byt_"))
            let file = fleet.folder.appendingPathComponent("wall.token")
            try Data((created.secret + "\n").utf8).write(to: file)
            #expect(try await cli.succeed("whoami", "--token-file", file.path) == "wall (token), role viewer\n")
            #expect(try await cli.json(CallerSummary.self, "whoami").role == .admin)

            let refused = try await cli.fail(["submit", "echo", "--group", "g1"], token: created.secret)
            #expect(refused.contains("token wall has the role viewer; this needs operator [forbidden, HTTP 403]"))
            let anonymous = try await cli.run(["jobs"], token: "")
            #expect(anonymous.status == 1 && anonymous.errors.contains("[unauthenticated, HTTP 401]"))

            let tokens = try await cli.json(APITokenList.self, "tokens", "list").tokens
            #expect(tokens.contains(created.token))
            #expect(try await cli.succeed("tokens", "list").contains("wall"))
            let revoked = try await cli.succeed("tokens", "revoke", created.token.id)
            #expect(revoked == "token \(created.token.id) revoked\n")
            #expect(try await cli.fail(["whoami", "--token-file", file.path]).contains("[invalid_token, HTTP 401]"))

            let audit = try await cli.json(AuditPage.self, "audit", "--limit", "3").entries
            #expect(audit.map { "\($0.method) \($0.path) \($0.status)" } == [
                "DELETE /v1/tokens/\(created.token.id) 204", "POST /v1/jobs 403", "POST /v1/tokens 201",
            ])
            #expect(try await cli.succeed("audit").contains("token wall"))
        }
    }

    static let declared = """
        calendars:
          - {name: holidays, nonWorkingDates: ["2030-12-25"]}
        bots:
          - {name: reader, argv: [/bin/echo, read], timeoutSeconds: 30}
        groups:
          - {name: g1, maxQueued: 50, launchAdmission: {manual: queue}}
        credentials:
          - {host: host0, account: robot0, username: svc, passwordEnv: ROBOT0_PASSWORD}
        queues:
          - {name: invoices, leaseSeconds: 60}
          - {name: spare}
        pipelines:
          - {name: month-end, group: g1, steps: [{bot: reader}, {bot: reader}]}
        workflows:
          - name: intake
            group: g1
            nodes: [{id: a, bot: reader}, {id: b, bot: reader}]
            edges: [{from: a, to: b}]
        triggers:
          - {queue: invoices, bot: reader, group: g1, enabled: false}
        schedules:
          - {name: nightly, target: {bot: reader, group: g1}, cron: "0 3 * * *", timeZone: Europe/Berlin,
             calendar: holidays}
        """

    @Test("apply -f creates what the file declares; again, it changes nothing and says so; --dry-run shows a diff and sends nothing; --prune deletes what the file dropped; a broken file changes nothing")
    func apply() async throws {
        try await Fleet.run { fleet in
            let cli = CLI(fleet)
            let file = fleet.folder.appendingPathComponent("botyard.yaml")
            func apply(_ yaml: String, _ options: String...) async throws -> CommandResult {
                try Data(yaml.utf8).write(to: file)
                return try await runCommand(CLI.binary, ["apply", "-f", file.path] + options,
                                            environment: ["BOTYARD_URL": cli.url, "BOTYARD_TOKEN": cli.token ?? "",
                                                          "ROBOT0_PASSWORD": "s3cret"])
            }
            // Group g1 exists once its worker's first heartbeat is in: apply then updates it.
            try await waitUntil(timeout: .seconds(10)) {
                try await fleet.api.send(.get, "/v1/groups").decode([GroupStatus].self).contains { $0.name == "g1" }
            }
            let first = try await apply(Self.declared)
            #expect(first.status == 0, "\(first.errors)")
            #expect(first.output.contains("+ queue invoices") && first.output.contains("+ schedule nightly"))
            #expect(first.output.contains("~ group g1\n    launchAdmission: "))
            #expect(first.output.contains("    maxQueued: (none) → 50\n"))
            #expect(first.output.hasSuffix("applied: 9 to create, 1 to update, 0 to delete, 0 unchanged\n"))
            #expect(try await cli.json(ScheduleSnapshot.self, "schedule", "show", "nightly").definition.calendar
                        == "holidays")
            #expect(try await cli.json([GroupStatus].self, "groups").first { $0.name == "g1" }?.maxQueued == 50)
            let credentials = try await fleet.api.send(.get, "/v1/credentials").decode([CredentialSummary].self)
            #expect(credentials.map(\.username) == ["svc"])

            let again = try await apply(Self.declared)
            #expect(again.output.hasSuffix("nothing to change: 0 to create, 0 to update, 0 to delete, 10 unchanged\n"),
                    "\(again.output)")

            let edited = Self.declared.replacingOccurrences(of: "leaseSeconds: 60", with: "leaseSeconds: 90")
                .replacingOccurrences(of: "  - {name: spare}\n", with: "")
            let dryRun = try await apply(edited, "--dry-run", "--prune")
            #expect(dryRun.output.contains("~ queue invoices\n    leaseSeconds: 60 → 90\n"), "\(dryRun.output)")
            #expect(dryRun.output.contains("- queue spare"))
            #expect(dryRun.output.hasSuffix(
                "dry run, nothing sent: 0 to create, 1 to update, 1 to delete, 8 unchanged\n"))
            #expect(try await cli.json([WorkQueueDefinition].self, "queue", "list").map(\.leaseSeconds).sorted()
                        == [60, WorkQueueDefinition(name: "x").leaseSeconds].sorted())

            let pruned = try await apply(edited, "--prune", "--output", "json")
            struct Outcome: Decodable { var applied: Bool; var summary: String }
            let outcome = try JSONCodec.decode(Outcome.self, from: Data(pruned.output.utf8))
            #expect(outcome.applied && outcome.summary == "0 to create, 1 to update, 1 to delete, 8 unchanged")
            #expect(try await cli.json([WorkQueueDefinition].self, "queue", "list").map(\.name) == ["invoices"])

            let broken = try await apply(edited.replacingOccurrences(of: "cron: \"0 3 * * *\"", with: "cron: 7")
                .replacingOccurrences(of: "timeoutSeconds: 30", with: "timeoutSeconds: 30, retries: 2")
                .replacingOccurrences(of: "leaseSeconds: 90", with: "leaseSeconds: 120"))
            #expect(broken.status != 0)
            #expect(broken.errors.contains("is refused, nothing was changed"), "\(broken.errors)")
            #expect(broken.errors.contains("line 4: bots[0] 'reader': unknown field 'retries' (line 4)"))
            #expect(broken.errors.contains("line 21: schedules[0] 'nightly': cron: expected 5 fields"))
            #expect(!broken.errors.contains("Usage:"))
            #expect(try await cli.json([WorkQueueDefinition].self, "queue", "list").map(\.leaseSeconds) == [90])
        }
    }
}
