import Foundation
import Prometheus
import Shared

/// The dispatcher's Prometheus metrics (`GET /metrics`), in a registry of its own (no global
/// metrics system: tests run many dispatchers in one process).
///
/// Counters move as things happen; the figures the store and the heartbeats know (jobs by state,
/// outbox, robot queue, the fleet's slots) are read when scraped. Labels are bounded: groups,
/// states and outcomes, never job ids.
public final class DispatcherMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    public init() {
        // Shown from the start, at 0: an alert on it needs the series before the first error.
        _ = registry.makeCounter(descriptor: Self.storeErrors)
    }

    private static func named(_ name: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "botyard", metricName: name, unitName: unit, helpText: help)
    }

    // Computed: the descriptor type is not Sendable.
    static var submitted: MetricNameDescriptor {
        named("jobs_submitted", unit: "total", "Jobs submitted through the API, by group and bot")
    }
    static var ended: MetricNameDescriptor {
        named("jobs_ended", unit: "total", "Jobs that ended on a worker's report, by group, bot and final state")
    }
    static var storeErrors: MetricNameDescriptor {
        named("store_errors", unit: "total", "API requests the store failed")
    }
    static var brokerErrors: MetricNameDescriptor {
        named("broker_errors", unit: "total",
              "Broker connections lost or refused, and publishes that failed, by connection")
    }
    static var jobs: MetricNameDescriptor { named("jobs", "Jobs in the store, by state") }
    static var outbox: MetricNameDescriptor {
        named("outbox_messages", "Messages stored and not yet confirmed by the broker")
    }
    static var robotQueue: MetricNameDescriptor { named("robot_queue_entries", "Launches waiting in the robot queue") }
    static var slots: MetricNameDescriptor { named("fleet_slots", "Slots of the group's live workers") }
    static var running: MetricNameDescriptor { named("fleet_running", "Bots running in the group") }
    static var workers: MetricNameDescriptor { named("workers", "Workers by group and liveness (live or lost)") }
    static var startLatency: MetricNameDescriptor {
        named("job_start_latency", unit: "seconds", "From a job's submission to its first attempt's start, by group")
    }
    static var runTime: MetricNameDescriptor {
        named("job_run", unit: "seconds", "How long an attempt ran on its worker, by group")
    }
    static var waiting: MetricNameDescriptor {
        named("jobs_waiting",
              "Jobs waiting for a slot (pending, queued or retrying), by group: the depth of its queues")
    }
    static var workItems: MetricNameDescriptor {
        named("work_items", "Work items waiting (new) and being worked (in-progress), by queue")
    }
    static var outboxAge: MetricNameDescriptor {
        named("outbox_oldest_age", unit: "seconds", "Age of the oldest message not yet confirmed by the broker")
    }

    /// Buckets of the latency histograms, 5 ms to 10 minutes.
    static let latencyBuckets: [Duration] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
                                             60_000, 300_000, 600_000].map { .milliseconds($0) }

    /// Jobs of `bot` stored for `group` by the API (one submission or a batch's).
    func jobSubmitted(group: String, bot: String, count: Int = 1) {
        registry.makeCounter(descriptor: Self.submitted, labels: [("group", group), ("bot", bot)])
            .increment(by: Int64(count))
    }

    /// A connection to the broker failed, or a publish on it (`connection`: which of the dispatcher's).
    func brokerFailed(connection: String) {
        registry.makeCounter(descriptor: Self.brokerErrors, labels: [("connection", connection)]).increment()
    }

    /// Shows `botyard_broker_errors_total{connection="<name>"}` from 0, before any failure.
    func brokerConnectionOpened(_ name: String) {
        _ = registry.makeCounter(descriptor: Self.brokerErrors, labels: [("connection", name)])
    }

    /// What an applied report told: the job's end, its wait before its start, an attempt's run time.
    func observe(_ figures: BotyardStore.ReportFigures) {
        if let ended = figures.ended {
            registry.makeCounter(descriptor: Self.ended, labels: [("group", figures.group), ("bot", figures.bot),
                                                                  ("state", ended.rawValue)]).increment()
        }
        let labels = [("group", figures.group)]
        if let waited = figures.waited {
            registry.makeDurationHistogram(descriptor: Self.startLatency, labels: labels, buckets: Self.latencyBuckets)
                .record(waited)
        }
        if let ran = figures.ran {
            registry.makeDurationHistogram(descriptor: Self.runTime, labels: labels, buckets: Self.latencyBuckets)
                .record(ran)
        }
    }

    /// The store refused or failed an API request.
    func storeFailed() {
        registry.makeCounter(descriptor: Self.storeErrors).increment()
    }

    /// The metrics in Prometheus' text format, with the store's figures read now.
    func scrape(_ store: BotyardStore) async throws -> String {
        for (state, count) in try await store.jobCounts() {
            registry.makeGauge(descriptor: Self.jobs, labels: [("state", state.rawValue)]).set(Int64(count))
        }
        registry.makeGauge(descriptor: Self.outbox).set(Int64(try await store.outboxCount()))
        registry.makeGauge(descriptor: Self.robotQueue).set(Int64(try await store.robotQueue().count))
        let oldest = try await store.oldestOutboxMessage()
        registry.makeGauge(descriptor: Self.outboxAge).set(oldest.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
        for (queue, counts) in try await store.workItemCounts() {
            for (state, count) in counts {
                registry.makeGauge(descriptor: Self.workItems, labels: [("queue", queue), ("state", state)])
                    .set(Int64(count))
            }
        }
        for group in try await store.groups() {
            registry.makeGauge(descriptor: Self.waiting, labels: [("group", group.name)]).set(Int64(group.waiting))
        }
        for (group, workers) in Dictionary(grouping: try await store.workers(), by: \.group) {
            let live = workers.filter { $0.state != .lost }
            let labels = [("group", group)]
            registry.makeGauge(descriptor: Self.slots, labels: labels).set(Int64(live.map(\.slots).reduce(0, +)))
            registry.makeGauge(descriptor: Self.running, labels: labels).set(Int64(live.map(\.running).reduce(0, +)))
            registry.makeGauge(descriptor: Self.workers, labels: labels + [("state", "live")]).set(Int64(live.count))
            registry.makeGauge(descriptor: Self.workers, labels: labels + [("state", "lost")])
                .set(Int64(workers.count - live.count))
        }
        return registry.emitToString()
    }
}
