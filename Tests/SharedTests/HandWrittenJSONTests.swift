import Foundation
import Testing

@testable import Shared

@Suite("Messages read and written by hand")
struct HandWrittenJSONTests {
    static let odd = "\u{0}\u{1}\u{8}\u{C}\u{1F}\u{7F} / \\ \" é 名前 🤖 \u{2028} tab\there\r\n"
    static let at = Date(timeIntervalSince1970: 1_700_000_000.125)

    static let events = [
        JobEvent(kind: .started, jobID: 7, attempt: 1, runID: "run-1", workerID: "w", host: "h", account: nil, at: at),
        JobEvent(kind: .finished, jobID: 9_007_199_254_740_993, attempt: 3, envelopeAttempt: 2, runID: odd,
                 workerID: "worker \(odd)", host: "desk-4", account: "clerk", at: at,
                 outcome: JobOutcome(result: .failed, exitCode: -1, signal: 9, reason: odd,
                                     outputs: ["B": odd, "A": "1", "": "empty key", "é": "x"], log: odd + odd,
                                     durationMilliseconds: 86_400_000),
                 startedAt: at.addingTimeInterval(-86_400.25)),
        JobEvent(kind: .cleanedUp, jobID: 1, attempt: 1, runID: "r", workerID: "w", host: "h", account: "a",
                 at: Date(timeIntervalSince1970: 0), outcome: JobOutcome(result: .businessException, reason: "")),
    ]

    @Test("a report is written as JSONEncoder writes it, byte for byte")
    func reportsWritten() throws {
        let encoder = JSONCodec.makeEncoder()
        for event in Self.events {
            #expect(JSONCodec.encode(event) == (try encoder.encode(event)))
        }
        #expect(JSONCodec.encode(Self.events) == (try encoder.encode(Self.events)))
        #expect(JSONCodec.encode([JobEvent]()) == (try encoder.encode([JobEvent]())))
    }

    @Test("a report is read by hand as JSONDecoder reads it")
    func reportsRead() throws {
        let decoder = JSONCodec.makeDecoder()
        for event in Self.events {
            let text = try JSONCodec.makeEncoder().encode(event)
            let byHand = try JobEvent(json: #require(JSONNode(reading: text)))
            #expect(byHand == (try decoder.decode(JobEvent.self, from: text)))
        }
        // Written by another hand: spaces, other key orders, unknown keys, nulls for absent values.
        let other = #"{ "kind" : "returned", "eventID":"e", "jobID":5, "attempt":2, "envelopeAttempt":2, "runID":"r", "#
            + #""workerID":"w", "host":"h", "account":null, "outcome":null, "at":"2023-11-14T22:13:20Z", "new":[1]}"#
        let byHand = try JobEvent(json: #require(JSONNode(reading: Data(other.utf8))))
        #expect(byHand == (try decoder.decode(JobEvent.self, from: Data(other.utf8))))
        #expect(byHand.account == nil && byHand.outcome == nil && byHand.kind == .returned)
    }

    static let envelopes = [
        JobEnvelope(jobID: 42, attempt: 2, maxAttempts: 3,
                    bot: BotDefinition(name: "invoice-bot", argv: ["/usr/bin/env", "python3", odd], timeoutSeconds: 60),
                    group: "finance", priority: .high, environment: "staging", inputs: ["INVOICE": odd, "N": "1"],
                    account: nil, timeoutSeconds: 60, submittedAt: at),
        JobEnvelope(jobID: 43, attempt: 1, maxAttempts: 5,
                    bot: BotDefinition(name: "ui-bot", version: "2.1", argv: ["/opt/bot"], workingDirectory: "/srv/bot",
                                       needsUI: true, timeoutSeconds: 30,
                                       retry: .exponential(maxAttempts: 5, baseMilliseconds: 100,
                                                           maxMilliseconds: 60_000, jitter: 0.35),
                                       marks: ["sap", "excel"], stopGraceSeconds: 3, cleanup: ["/opt/reset", "-f"]),
                    group: "desk", priority: .low, environment: "production", inputs: [:], account: "clerk",
                    host: "desk-4", timeoutSeconds: 45, submittedAt: at, variables: ["STEP": "2", "ODD": odd],
                    jobToken: "tok_0123"),
    ]

    @Test("a job message is read by hand as JSONDecoder reads it")
    func envelopesRead() throws {
        let decoder = JSONCodec.makeDecoder()
        for envelope in Self.envelopes {
            let text = try JSONCodec.makeEncoder().encode(envelope)
            let byHand = try JobEnvelope(json: #require(JSONNode(reading: text)))
            #expect(byHand == (try decoder.decode(JobEnvelope.self, from: text)))
        }
    }

    @Test("a bot stored before marks, stop graces, cleanups and jitters reads with their defaults")
    func earlierBots() throws {
        let stored = #"{"name": "b", "version": "1", "argv": ["/bin/true"], "needsUI": false, "timeoutSeconds": 60, "#
            + #""retry": {"maxAttempts": 3, "backoff": {"kind": "exponential", "baseMilliseconds": 10, "#
            + #""maxMilliseconds": 100}}}"#
        let byHand = try BotDefinition(json: #require(JSONNode(reading: Data(stored.utf8))))
        #expect(byHand == (try JSONCodec.makeDecoder().decode(BotDefinition.self, from: Data(stored.utf8))))
        #expect(byHand.marks == [] && byHand.cleanup == nil
            && byHand.stopGraceSeconds == BotDefinition.defaultStopGraceSeconds
            && byHand.retry.backoff == .exponential(baseMilliseconds: 10, maxMilliseconds: 100, jitter: 0.2))
    }

    @Test("a submission is read by hand as JSONDecoder reads it, and its answer written as JSONEncoder writes it")
    func submissions() throws {
        let requests = [
            SubmitJobRequest(bot: "invoice-bot", group: "finance"),
            SubmitJobRequest(bot: "ui-bot", group: "desk", priority: .high, environment: "prod",
                             inputs: ["INVOICE": Self.odd], account: "clerk", timeoutSeconds: 30,
                             retry: .fixed(maxAttempts: 2, waitMilliseconds: 0), launchMethod: .manual,
                             initiator: "ann", admission: .queue, host: "desk-4",
                             robotQueue: RobotQueuePolicy(waitSeconds: 5, maxAttempts: 3)),
        ]
        let encoder = JSONCodec.makeEncoder()
        for request in requests {
            let text = try encoder.encode(request)
            let byHand = try SubmitJobRequest(json: #require(JSONNode(reading: text)))
            let decoded = try JSONCodec.makeDecoder().decode(SubmitJobRequest.self, from: text)
            #expect(try encoder.encode(byHand) == encoder.encode(decoded))
            #expect(try encoder.encode(byHand) == text)
        }
        // An unknown launch method is JSONDecoder's to refuse: the API's 422 names it.
        let unknown = Data(#"{"bot": "b", "group": "g", "launchMethod": "telepathy"}"#.utf8)
        #expect(throws: JSONMismatch.self) { try SubmitJobRequest(json: #require(JSONNode(reading: unknown))) }
        #expect(throws: CodecError.self) { try JSONCodec.decode(SubmitJobRequest.self, from: unknown) }

        let created = JobCreated(id: 9_007_199_254_740_993, state: .queued)
        #expect(try JSONCodec.encode(created) == encoder.encode(created))
        // A generic caller (the API's JSONResponse) is written by hand too, to the same text.
        func generic<Value: Encodable>(_ value: Value) throws -> Data { try JSONCodec.encode(value) }
        #expect(try generic(created) == encoder.encode(created))
    }

    @Test("a batch is read by hand as JSONDecoder reads it; its answer written as JSONEncoder writes it, and read back")
    func batches() throws {
        let encoder = JSONCodec.makeEncoder()
        let batch = SubmitJobBatchRequest(jobs: [
            SubmitJobRequest(bot: "invoice-bot", group: "finance"),
            SubmitJobRequest(bot: "ui-bot", group: "desk", inputs: ["INVOICE": Self.odd], account: "clerk"),
        ])
        let text = try encoder.encode(batch)
        let byHand = try SubmitJobBatchRequest(json: #require(JSONNode(reading: text)))
        #expect(try encoder.encode(byHand) == text)
        #expect(try encoder.encode(byHand) == encoder.encode(JSONCodec.makeDecoder().decode(SubmitJobBatchRequest.self,
                                                                                             from: text)))
        // An entry the hand reading does not take is JSONDecoder's to refuse: the API's 422 names it.
        let unknown = Data((#"{"jobs": [{"bot": "b", "group": "g"}, "#
                            + #"{"bot": "b", "group": "g", "launchMethod": "x"}]}"#).utf8)
        #expect(throws: JSONMismatch.self) { try SubmitJobBatchRequest(json: #require(JSONNode(reading: unknown))) }
        #expect(throws: CodecError.self) { try JSONCodec.decode(SubmitJobBatchRequest.self, from: unknown) }
        let missing = Data(#"{"entries": []}"#.utf8)
        #expect(throws: CodecError.self) { try JSONCodec.decode(SubmitJobBatchRequest.self, from: missing) }

        let full = JobBatchCreated(jobs: (1...1_000).map {
            JobCreated(id: Int64($0), state: $0.isMultiple(of: 7) ? .rejected : .pending)
        })
        for answer in [JobBatchCreated(jobs: []), JobBatchCreated(jobs: [JobCreated(id: 1, state: .pending),
                                                                          JobCreated(id: 2, state: .rejected)]), full] {
            func generic<Value: Encodable>(_ value: Value) throws -> Data { try JSONCodec.encode(value) }
            #expect(JSONCodec.encode(answer) == (try encoder.encode(answer)))
            #expect(try generic(answer) == encoder.encode(answer))
            let read = try JobBatchCreated(json: #require(JSONNode(reading: JSONCodec.encode(answer))))
            #expect(read.jobs.map(\.id) == answer.jobs.map(\.id) && read.jobs.map(\.state) == answer.jobs.map(\.state))
        }
    }

    static let heartbeats = [
        WorkerHeartbeat(workerID: "w-\(odd)", group: "finance", host: "desk-4", accounts: [], slots: 0, running: 0,
                        intervalSeconds: 5, at: at),
        WorkerHeartbeat(workerID: "w", group: "g", host: odd, accounts: [
            AccountStatus(name: "clerk", limit: 1),
            AccountStatus(name: odd, limit: 4, running: 3, uiRunning: true, served: false, hold: "cleanup failed: \(odd)"),
        ], slots: 8, running: 3, intervalSeconds: 0.25, stopping: true, at: Date(timeIntervalSince1970: 0)),
    ]

    @Test("a heartbeat is read by hand as JSONDecoder reads it; one without a required field is left to JSONDecoder")
    func heartbeatsRead() throws {
        let decoder = JSONCodec.makeDecoder()
        for heartbeat in Self.heartbeats {
            let text = try JSONCodec.makeEncoder().encode(heartbeat)
            let byHand = try WorkerHeartbeat(json: #require(JSONNode(reading: text)))
            #expect(byHand == heartbeat)
            #expect(byHand == (try decoder.decode(WorkerHeartbeat.self, from: text)))
        }
        let other = #"{"at": "1970-01-01T00:00:00Z", "workerID": "w", "group": "g", "host": "h", "slots": 1, "#
            + #""running": 0, "intervalSeconds": 5, "stopping": false, "new": {}, "accounts": [{"name": "a", "#
            + #""limit": 1, "running": 0, "uiRunning": false, "served": true, "hold": null}]}"#
        let byHand = try WorkerHeartbeat(json: #require(JSONNode(reading: Data(other.utf8))))
        #expect(byHand == (try decoder.decode(WorkerHeartbeat.self, from: Data(other.utf8))))
        #expect(byHand.accounts == [AccountStatus(name: "a", limit: 1)] && byHand.intervalSeconds == 5)
        let withoutServed = Data(other.replacingOccurrences(of: #", "served": true"#, with: "").utf8)
        #expect(throws: JSONMismatch.self) { try WorkerHeartbeat(json: #require(JSONNode(reading: withoutServed))) }
        do {
            _ = try JSONCodec.decode(WorkerHeartbeat.self, from: withoutServed)
            Issue.record("decoded an account without its served flag")
        } catch {
            #expect(error.description.contains("served"))
        }
    }

    @Test("what the hand reading does not take is decoded by JSONDecoder, whose error names the field")
    func fallback() throws {
        var envelope = try JSONSerialization.jsonObject(with: JSONCodec.encode(Self.envelopes[0])) as! [String: Any]
        envelope["jobID"] = "42"
        let wrongType = try JSONSerialization.data(withJSONObject: envelope)
        #expect(throws: JSONMismatch.self) { try JobEnvelope(json: #require(JSONNode(reading: wrongType))) }
        do {
            _ = try JSONCodec.decode(JobEnvelope.self, from: wrongType)
            Issue.record("decoded a string as a job id")
        } catch {
            #expect(error.description.contains("'jobID'"))
        }
        // A number the hand reading leaves alone (an attempt written 2.0): JSONCodec answers as JSONDecoder does.
        let text = String(decoding: try JSONCodec.makeEncoder().encode(Self.envelopes[0]), as: UTF8.self)
        let fraction = Data(text.replacingOccurrences(of: #""attempt":2,"#, with: #""attempt":2.0,"#).utf8)
        #expect(fraction != Data(text.utf8))
        #expect(throws: JSONMismatch.self) { try JobEnvelope(json: #require(JSONNode(reading: fraction))) }
        let byCodec = try? JSONCodec.decode(JobEnvelope.self, from: fraction)
        #expect(byCodec == (try? JSONCodec.makeDecoder().decode(JobEnvelope.self, from: fraction)))
        // A key written twice, and an unknown kind of backoff.
        let twice = Data(#"{"a": 1, "a": 2}"#.utf8)
        #expect(throws: JSONMismatch.self) { try [String: Int](json: #require(JSONNode(reading: twice))) }
        let unknownKind = Data(#"{"kind": "linear", "milliseconds": 5}"#.utf8)
        #expect(throws: JSONMismatch.self) { try RetryPolicy.Backoff(json: #require(JSONNode(reading: unknownKind))) }
        #expect(throws: CodecError.self) { try JSONCodec.decode(RetryPolicy.Backoff.self, from: unknownKind) }
    }
}
