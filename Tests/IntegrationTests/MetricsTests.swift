import Foundation
import Shared
import TestSupport
import Testing

@Suite("Prometheus metrics")
struct MetricsTests {
    /// One sample of Prometheus' text format: a metric's name, its labels and its value.
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// The samples of a text-format exposition; fails the test on a line that is neither a
    /// comment (`# HELP`, `# TYPE`) nor a sample.
    static func parse(_ text: String) -> [Sample] {
        let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
        let label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/
        return text.split(separator: "\n").compactMap { line -> Sample? in
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { return nil }
            guard let match = line.wholeMatch(of: sample), let value = Double(match.3) else {
                Issue.record("not Prometheus text format: \(line)")
                return nil
            }
            let labels = match.2.map { text in
                Dictionary(text.matches(of: label).map { (String($0.1), String($0.2)) }) { $1 }
            } ?? [:]
            return Sample(name: String(match.1), labels: labels, value: value)
        }
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.first { $0.name == name && $0.labels == labels }?.value ?? 0
    }

    @Test("GET /metrics is Prometheus text format, and its figures move as jobs are submitted and run")
    func metricsMove() async throws {
        try await Fleet.run(workers: 1, slots: 4) { fleet in
            func scrape() async throws -> [Sample] {
                let response = try await fleet.api.send(.get, "/metrics")
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                return Self.parse(String(buffer: response.body))
            }
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/sleep", "0.05"], timeoutSeconds: 30))
            #expect(try await fleet.api.send(.post, "/v1/queues", #"{"name": "invoices"}"#).status == .created)
            for reference in ["a", "b"] {
                _ = try await fleet.api.send(.post, "/v1/queues/invoices/items", #"{"reference": "\#(reference)"}"#)
            }
            let before = try await scrape()
            #expect(Self.value(before, "botyard_jobs_submitted_total", ["group": "g1", "bot": "quick"]) == 0)
            #expect(before.contains {
                $0.name == "botyard_broker_errors_total" && $0.labels == ["connection": "publish"]
            })
            for _ in 0..<3 {
                try await fleet.waitForJob(try await fleet.submit(SubmitJobRequest(bot: "quick", group: "g1")))
            }
            var after: [Sample] = []
            // The last report is applied before the API shows the job ended; the counter with it.
            try await waitUntil(timeout: .seconds(10)) {
                after = try await scrape()
                return Self.value(after, "botyard_workers", ["group": "g1", "state": "live"]) == 1
            }
            #expect(Self.value(after, "botyard_jobs_submitted_total", ["group": "g1", "bot": "quick"]) == 3)
            #expect(Self.value(after, "botyard_jobs_ended_total", ["group": "g1", "bot": "quick", "state": "succeeded"])
                        == 3)
            #expect(Self.value(after, "botyard_broker_errors_total", ["connection": "publish"]) == 0)
            #expect(Self.value(after, "botyard_jobs", ["state": "succeeded"]) == 3)
            #expect(Self.value(after, "botyard_fleet_slots", ["group": "g1"]) == 4)
            #expect(Self.value(after, "botyard_outbox_messages") == 0)
            #expect(Self.value(after, "botyard_outbox_oldest_age_seconds") == 0)
            #expect(Self.value(after, "botyard_jobs_waiting", ["group": "g1"]) == 0)
            #expect(Self.value(after, "botyard_work_items", ["queue": "invoices", "state": "new"]) == 2)
            #expect(Self.value(after, "botyard_work_items", ["queue": "invoices", "state": "in-progress"]) == 0)
            // Each job's wait before its start and its run, in histograms by group.
            for histogram in ["botyard_job_start_latency_seconds", "botyard_job_run_seconds"] {
                #expect(Self.value(after, histogram + "_count", ["group": "g1"]) == 3, "\(histogram)")
                #expect(Self.value(after, histogram + "_bucket", ["group": "g1", "le": "+Inf"]) == 3)
                #expect(Self.value(after, histogram + "_sum", ["group": "g1"]) > 0)
                #expect(Self.value(before, histogram + "_count", ["group": "g1"]) == 0)
            }
            #expect(Self.value(after, "botyard_job_run_seconds_sum", ["group": "g1"]) >= 0.15, "3 runs of 50 ms")
            #expect(after.allSatisfy { $0.labels["job"] == nil && $0.labels["id"] == nil })
            // The dashboard in ops/ plots only metrics the dispatcher has.
            let dashboard = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../ops/grafana/botyard-dashboard.json"), encoding: .utf8)
            let plotted = Set(dashboard.matches(of: /botyard_[a-z_]+/).map { String($0.0) })
            #expect(!plotted.isEmpty && plotted.isSubset(of: Set(after.map(\.name))), "\(plotted)")
        }
    }
}
