import Foundation
import GRDB
import Shared

/// The store's schema, as named migrations. Append new ones; never edit a released one.
enum StoreMigrations {
    /// - Parameter credentialsKey: seals credentials an older version stored in plain text.
    static func migrator(credentialsKey: SecretKey? = nil) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.create(table: "bots") { table in
                table.primaryKey("name", .text)
                table.column("definition", .jsonText).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "jobs") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("bot", .text).notNull().indexed()
                table.column("botSnapshot", .jsonText).notNull()
                table.column("group", .text).notNull()
                table.column("priority", .text).notNull()
                table.column("environment", .text).notNull()
                table.column("inputs", .jsonText).notNull()
                table.column("account", .text)
                table.column("state", .text).notNull().indexed()
                table.column("attempts", .integer).notNull()
                table.column("dispatchedAttempt", .integer).notNull()
                table.column("runID", .text)
                table.column("retryPolicy", .jsonText).notNull()
                table.column("timeoutSeconds", .integer).notNull()
                table.column("launchMethod", .text).notNull()
                table.column("initiator", .text).notNull()
                table.column("exitCode", .integer)
                table.column("outputs", .jsonText).notNull()
                table.column("reason", .text)
                table.column("workerID", .text)
                table.column("host", .text)
                table.column("ranAs", .text)
                table.column("submittedAt", .datetime).notNull()
                table.column("startedAt", .datetime)
                table.column("finishedAt", .datetime)
                table.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "job_history") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("jobID", .integer).notNull().indexed().references("jobs", onDelete: .cascade)
                table.column("at", .datetime).notNull()
                table.column("fromState", .text)
                table.column("toState", .text).notNull()
                table.column("attempt", .integer).notNull()
                table.column("reason", .text).notNull()
            }
            try db.create(table: "job_logs") { table in
                table.column("jobID", .integer).notNull().references("jobs", onDelete: .cascade)
                table.column("attempt", .integer).notNull()
                table.column("log", .text).notNull()
                table.primaryKey(["jobID", "attempt"])
            }
            try db.create(table: "outbox") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("jobID", .integer).notNull()
                table.column("kind", .text).notNull()
                table.column("exchange", .text).notNull()
                table.column("routingKey", .text).notNull()
                table.column("headers", .jsonText).notNull()
                table.column("body", .blob).notNull()
                table.column("messageID", .text).notNull()
                table.column("mandatory", .boolean).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "applied_events") { table in
                table.primaryKey("eventID", .text)
                table.column("appliedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v2-workers") { db in
            try db.create(table: "workers") { table in
                table.primaryKey("workerID", .text)
                table.column("group", .text).notNull()
                table.column("host", .text).notNull()
                table.column("accounts", .jsonText).notNull()
                table.column("slots", .integer).notNull()
                table.column("running", .integer).notNull()
                table.column("intervalSeconds", .double).notNull()
                table.column("stopping", .boolean).notNull()
                table.column("firstSeen", .datetime).notNull()
                table.column("lastSeen", .datetime).notNull()
            }
        }
        migrator.registerMigration("v3-groups") { db in
            try db.create(table: "groups") { table in
                table.primaryKey("name", .text)
                table.column("maxQueued", .integer)
                table.column("updatedAt", .datetime).notNull()
            }
            // Admission counts a group's unfinished jobs on every launch.
            try db.create(index: "jobs_group_state", on: "jobs", columns: ["group", "state"])
        }
        migrator.registerMigration("v4-robot-queue") { db in
            // Heartbeats now report accounts with their limits and leases; the registry refills
            // from the next heartbeat of every live worker.
            try db.execute(sql: "DELETE FROM workers")
            try db.alter(table: "jobs") { table in
                table.add(column: "targetHost", .text)
                table.add(column: "dispatchHost", .text)
                table.add(column: "robotQueuePolicy", .jsonText)
                table.add(column: "robotQueueTries", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "robot_queue") { table in
                table.primaryKey("jobID", .integer).references("jobs", onDelete: .cascade)
                table.column("host", .text)
                table.column("account", .text).notNull()
                table.column("needsUI", .boolean).notNull()
                table.column("addedAt", .datetime).notNull()
                table.column("attempts", .integer).notNull()
                table.column("maxAttempts", .integer).notNull()
                table.column("waitSeconds", .integer).notNull()
                table.column("notBefore", .datetime).notNull()
                // An event (run finished, credentials changed, host active) came since the last try.
                table.column("due", .boolean).notNull()
                table.column("reason", .text).notNull()
            }
            try db.create(table: "credentials") { table in
                table.column("host", .text).notNull()
                table.column("account", .text).notNull()
                table.column("username", .text).notNull()
                table.column("password", .text).notNull()
                table.column("updatedAt", .datetime).notNull()
                table.primaryKey(["host", "account"])
            }
        }
        migrator.registerMigration("v5-account-load-indexes") { db in
            // What holds an account (robot-queue checks run inside write transactions): unfinished
            // jobs dispatched to it, and runs on it; and the robot queue's due entries.
            try db.execute(sql: """
                CREATE INDEX jobs_dispatched_to ON jobs(dispatchHost, account)
                    WHERE state IN ('pending', 'queued', 'retrying');
                CREATE INDEX jobs_running_on ON jobs(host, ranAs) WHERE state IN ('running', 'paused');
                CREATE INDEX robot_queue_due ON robot_queue(due, notBefore);
                """)
        }
        migrator.registerMigration("v6-bot-controls") { db in
            // Business or system, for jobs that ended failed or dead from now on.
            try db.alter(table: "jobs") { table in
                table.add(column: "failureKind", .text)
            }
            // What an account's cleanup command printed after a stopped or crashed attempt.
            try db.create(table: "cleanup_logs") { table in
                table.column("jobID", .integer).notNull().references("jobs", onDelete: .cascade)
                table.column("attempt", .integer).notNull()
                table.column("log", .text).notNull()
                table.primaryKey(["jobID", "attempt"])
            }
        }
        migrator.registerMigration("v7-flows") { db in
            try db.create(table: "flows") { table in
                table.column("kind", .text).notNull()
                table.column("name", .text).notNull()
                table.column("definition", .jsonText).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
                table.primaryKey(["kind", "name"])
            }
            try db.create(table: "flow_runs") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("kind", .text).notNull()
                table.column("name", .text).notNull()
                // The definition as it was when the run started: replacing it does not change a run.
                table.column("definition", .jsonText).notNull()
                table.column("progress", .jsonText).notNull()
                table.column("state", .text).notNull()
                table.column("outstanding", .integer)
                table.column("reason", .text)
                table.column("initiator", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
                table.column("finishedAt", .datetime)
            }
            try db.create(index: "flow_runs_kind_name", on: "flow_runs", columns: ["kind", "name"])
            try db.alter(table: "jobs") { table in
                table.add(column: "flowRun", .integer).references("flow_runs")
                table.add(column: "flowStep", .text)
                table.add(column: "variables", .jsonText)
            }
            try db.execute(sql: "CREATE INDEX jobs_flow_run ON jobs(flowRun) WHERE flowRun IS NOT NULL")
        }
        migrator.registerMigration("v8-work-queues") { db in
            try db.create(table: "work_queues") { table in
                table.primaryKey("name", .text)
                table.column("definition", .jsonText).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "work_items") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("queue", .text).notNull().references("work_queues", onDelete: .cascade)
                table.column("state", .text).notNull()
                table.column("priority", .text).notNull()
                table.column("priorityRank", .integer).notNull()
                table.column("reference", .text)
                table.column("payload", .text).notNull()
                table.column("output", .text)
                table.column("dueAt", .datetime)
                table.column("postponeUntil", .datetime)
                table.column("retryNumber", .integer).notNull()
                table.column("retryOf", .integer)
                table.column("failureKind", .text)
                table.column("reason", .text)
                table.column("leaseToken", .text)
                table.column("leaseExpiresAt", .datetime)
                table.column("claimedByJob", .integer)
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            // Claims search a queue's new items in claim order; expiry, the leases in progress.
            try db.execute(sql: """
                CREATE INDEX work_items_claim ON work_items(queue, priorityRank, dueAt IS NULL, dueAt, id)
                    WHERE state = 'new';
                CREATE INDEX work_items_leases ON work_items(leaseExpiresAt) WHERE state = 'in-progress';
                CREATE INDEX work_items_reference ON work_items(queue, reference) WHERE reference IS NOT NULL;
                CREATE INDEX work_items_queue_state ON work_items(queue, state);
                """)
            try db.create(table: "work_item_history") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("itemID", .integer).notNull().indexed().references("work_items", onDelete: .cascade)
                table.column("at", .datetime).notNull()
                table.column("fromState", .text)
                table.column("toState", .text).notNull()
                table.column("reason", .text).notNull()
            }
        }
        migrator.registerMigration("v9-job-tokens") { db in
            try db.alter(table: "jobs") { table in
                table.add(column: "apiToken", .text)
            }
            try db.execute(sql: "CREATE UNIQUE INDEX jobs_api_token ON jobs(apiToken) WHERE apiToken IS NOT NULL")
        }
        migrator.registerMigration("v10-job-parents") { db in
            try db.alter(table: "jobs") { table in
                table.add(column: "parentJob", .integer).references("jobs")
            }
            // `GET /v1/jobs?parent=N` and a job's children: few jobs have a parent.
            try db.execute(sql: "CREATE INDEX jobs_parent ON jobs(parentJob) WHERE parentJob IS NOT NULL")
        }
        migrator.registerMigration("v11-queue-triggers") { db in
            try db.create(table: "queue_triggers") { table in
                table.primaryKey("queue", .text).references("work_queues", onDelete: .cascade)
                table.column("definition", .jsonText).notNull()
                table.column("nextRecheckAt", .datetime).notNull()
                // `exact` only: when the earliest postponed item of the queue becomes ready.
                table.column("nextReadyAt", .datetime)
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            // A column per number, so that a recheck of many triggers records them without JSON.
            try db.create(table: "queue_trigger_evaluations") { table in
                table.primaryKey("queue", .text).references("queue_triggers", onDelete: .cascade)
                table.column("at", .datetime).notNull()
                table.column("cause", .text).notNull()
                table.column("strategy", .text).notNull()
                for number in ["readyItems", "deferredItems", "inProgressItems", "pendingJobs", "runningJobs",
                               "desiredJobs", "countedJobs", "capacity", "jobsToStart"] {
                    table.column(number, .integer).notNull()
                }
                table.column("reason", .text)
                table.column("startedJobs", .text).notNull()
                table.column("problem", .text)
            }
            try db.alter(table: "jobs") { table in
                table.add(column: "triggerQueue", .text)
                // When the job's bot first claimed a work item: until then it is on its way to one.
                table.add(column: "firstClaimAt", .datetime)
            }
            // A trigger counts its live jobs and the items they hold; it counts a queue's ready and
            // postponed items in one pass over its new items.
            try db.execute(sql: """
                CREATE INDEX jobs_trigger_live ON jobs(triggerQueue, state)
                    WHERE triggerQueue IS NOT NULL AND state IN ('pending', 'queued', 'retrying', 'running', 'paused');
                CREATE INDEX work_items_claimed_by ON work_items(claimedByJob) WHERE claimedByJob IS NOT NULL;
                CREATE INDEX work_items_ready ON work_items(queue, postponeUntil) WHERE state = 'new';
                """)
        }
        migrator.registerMigration("v12-group-launch-admission") { db in
            // A group's own entries of its launch-admission table; `{}`: Kofax's defaults.
            try db.alter(table: "groups") { table in
                table.add(column: "launchAdmission", .jsonText).notNull().defaults(to: "{}")
            }
        }
        migrator.registerMigration("v13-schedules") { db in
            try db.create(table: "calendars") { table in
                table.primaryKey("name", .text)
                table.column("nonWorkingDates", .jsonText).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "schedules") { table in
                table.primaryKey("name", .text)
                table.column("definition", .jsonText).notNull()
                // The firing it waits for; null while paused, or when it never fires again.
                table.column("nextFiringAt", .datetime)
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            try db.execute(sql: "CREATE INDEX schedules_due ON schedules(nextFiringAt) WHERE nextFiringAt IS NOT NULL")
            try db.create(table: "schedule_firings") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("schedule", .text).notNull().references("schedules", onDelete: .cascade)
                table.column("scheduledFor", .datetime).notNull()
                table.column("handledAt", .datetime).notNull()
                table.column("outcome", .text).notNull()
                table.column("reason", .text).notNull()
                table.column("missedFirings", .integer).notNull()
                table.column("jobID", .integer).references("jobs")
                table.column("flowRunID", .integer).references("flow_runs")
                table.column("p90RunSeconds", .double)
                table.column("windowClosesAt", .datetime)
                // A firing is claimed in the store: two dispatchers never handle it twice.
                table.uniqueKey(["schedule", "scheduledFor"])
            }
            // A schedule's start decision reads its bot's latest successful runs.
            try db.execute(sql: "CREATE INDEX jobs_bot_succeeded ON jobs(bot, id) WHERE state = 'succeeded'")
        }
        migrator.registerMigration("v14-job-state-counts") { db in
            // How many jobs are in each state, kept by triggers on every insert, change of state and
            // delete: `GET /v1/stats` (polled by consoles and the bench) reads a handful of rows
            // instead of counting a store of millions.
            try db.execute(sql: """
                CREATE TABLE job_state_counts (state TEXT PRIMARY KEY, jobs INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO job_state_counts SELECT state, COUNT(*) FROM jobs GROUP BY state;
                CREATE TRIGGER jobs_count_inserted AFTER INSERT ON jobs BEGIN
                    INSERT INTO job_state_counts VALUES (NEW.state, 1)
                        ON CONFLICT (state) DO UPDATE SET jobs = jobs + 1;
                END;
                CREATE TRIGGER jobs_count_moved AFTER UPDATE OF state ON jobs WHEN OLD.state != NEW.state BEGIN
                    UPDATE job_state_counts SET jobs = jobs - 1 WHERE state = OLD.state;
                    INSERT INTO job_state_counts VALUES (NEW.state, 1)
                        ON CONFLICT (state) DO UPDATE SET jobs = jobs + 1;
                END;
                CREATE TRIGGER jobs_count_deleted AFTER DELETE ON jobs BEGIN
                    UPDATE job_state_counts SET jobs = jobs - 1 WHERE state = OLD.state;
                END;
                """)
        }
        migrator.registerMigration("v15-sealed-credentials") { db in
            try sealCredentials(with: credentialsKey, in: db)
        }
        migrator.registerMigration("v16-retention") { db in
            // Retention deletes the ids of applied reports by age, but never those of a job that may
            // still report; ids stored before this have no job and go by age alone.
            try db.alter(table: "applied_events") { $0.add(column: "jobID", .integer) }
            try db.execute(sql: "CREATE INDEX applied_events_age ON applied_events(appliedAt)")
            // Finished jobs by age (retention), and the firings of a job that is deleted.
            try db.execute(sql: "CREATE INDEX jobs_finished ON jobs(finishedAt) WHERE finishedAt IS NOT NULL")
            try db.execute(sql: "CREATE INDEX schedule_firings_job ON schedule_firings(jobID) WHERE jobID IS NOT NULL")
        }
        migrator.registerMigration("v17-access") { db in
            // API tokens: the key's hash only. A name is unique among live tokens.
            try db.execute(sql: """
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    keyHash TEXT NOT NULL,
                    createdAt DATETIME NOT NULL,
                    revokedAt DATETIME
                );
                CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(name) WHERE revokedAt IS NULL;
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at DATETIME NOT NULL,
                    caller TEXT NOT NULL,
                    role TEXT,
                    method TEXT NOT NULL,
                    path TEXT NOT NULL,
                    status INTEGER NOT NULL
                );
                CREATE INDEX audit_log_at ON audit_log(at);
                """)
        }
        migrator.registerMigration("v18-job-state-counts-by-writes") { db in
            // The counts are kept by the store's writes (`JobStateCounts`): a trigger made every
            // statement on `jobs` keep a statement journal.
            try db.execute(sql: """
                DROP TRIGGER jobs_count_inserted;
                DROP TRIGGER jobs_count_moved;
                DROP TRIGGER jobs_count_deleted;
                """)
        }
        migrator.registerMigration("v19-partial-indexes-without-in-lists") { db in
            // `state IN (…)` of three states or more made every insert and state change of a job
            // build temporary b-trees to test the indexes' conditions (`JobStateCondition`).
            try db.execute(sql: """
                DROP INDEX jobs_dispatched_to;
                CREATE INDEX jobs_dispatched_to ON jobs(dispatchHost, account)
                    WHERE (state = 'pending' OR state = 'queued' OR state = 'retrying');
                DROP INDEX jobs_trigger_live;
                CREATE INDEX jobs_trigger_live ON jobs(triggerQueue, state)
                    WHERE triggerQueue IS NOT NULL
                      AND (state = 'pending' OR state = 'queued' OR state = 'retrying' OR state = 'running'
                           OR state = 'paused');
                """)
        }
        migrator.registerMigration("v20-dispatched-to-targeted-jobs-only") { db in
            // Every waiting job had an entry, an untargeted one under (NULL, NULL) that no search reads:
            // an insert for each new job and two for each one queued. Its searches compare
            // `dispatchHost`, which implies the new term.
            try db.execute(sql: """
                DROP INDEX jobs_dispatched_to;
                CREATE INDEX jobs_dispatched_to ON jobs(dispatchHost, account)
                    WHERE dispatchHost IS NOT NULL AND (state = 'pending' OR state = 'queued' OR state = 'retrying');
                """)
        }
        return migrator
    }
}

extension StoreMigrations {
    /// Replaces the passwords of `credentials` by sealed ones (``CredentialRecord/sealedPassword``),
    /// overwriting the plain text on disk.
    static func sealCredentials(with key: SecretKey?, in db: Database) throws {
        let stored = try Row.fetchAll(db, sql: "SELECT host, account, password FROM credentials")
        guard stored.isEmpty || key != nil else {
            throw StoreError(operation: "seal stored credentials", message: """
                \(stored.count) credentials are stored in plain text by an earlier version: start the \
                dispatcher with its secrets key (--secrets-key-file) once to seal them
                """)
        }
        // Freed pages are zeroed, so that the table rebuilt without `password` leaves no copy behind.
        try db.execute(sql: "PRAGMA secure_delete = ON")
        try db.alter(table: "credentials") { $0.add(column: "sealedPassword", .text).notNull().defaults(to: "") }
        for row in stored {
            let host: String = row["host"], account: String = row["account"], password: String = row["password"]
            let sealed = key!.seal(Data(password.utf8),
                                   context: CredentialRecord.sealingContext(host: host, account: account))
            try db.execute(sql: """
                UPDATE credentials SET sealedPassword = ?, password = '' WHERE host = ? AND account = ?
                """, arguments: [sealed, host, account])
        }
        try db.alter(table: "credentials") { $0.drop(column: "password") }
        try db.execute(sql: "PRAGMA secure_delete = OFF")
    }
}
