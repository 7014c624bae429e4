import ArgumentParser
import BotyardClient
import Foundation
import Shared

/// `botyard-bench schedules`: how late a schedule's firing starts its job, on a real dispatcher
/// (release build) and broker. Many schedules fire every minute at once; for each firing it
/// reports how long after the firing's instant the dispatcher stored its job (the keeper's
/// lateness) and how long until the broker confirmed the job's message (`queued`).
struct FiringPrecision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules", abstract: "Measure how late schedule firings start their jobs.")

    @OptionGroup var broker: BrokerOptions
    @Option(help: "Schedules, each firing every minute.") var schedules = 20
    @Option(help: "Minutes of firings measured.") var minutes = 2

    func run() async throws {
        let fleet = try broker.makeFleet()
        defer { fleet.stopAll() }
        try fleet.startDispatcher()
        let client = fleet.client(connections: 4)
        let driver = Driver(client: client)
        try await driver.waitUntilHealthy()
        try await driver.register(CreateBotRequest(name: "tick", argv: ["/bin/true"], timeoutSeconds: 30))
        var last = Date()
        for index in 0..<schedules {
            let definition = ScheduleDefinition(name: "tick-\(index)",
                                                target: .bot(ScheduledJob(bot: "tick", group: "bench")),
                                                cron: "* * * * *")
            let saved = try await client.put("/v1/schedules/tick-\(index)", definition, as: ScheduleSnapshot.self)
            last = saved.nextFirings.prefix(minutes).last?.at ?? last
        }
        print("== \(schedules) schedules firing every minute, measured over \(minutes) minutes (until \(last))")
        while Date() < last.addingTimeInterval(5) { try await Task.sleep(for: .milliseconds(500)) }

        var stored: [Double] = []
        var queued: [Double] = []
        for index in 0..<schedules {
            let firings = try await client.get("/v1/schedules/tick-\(index)/firings", as: [ScheduleFiring].self)
            for firing in firings where firing.outcome == .started {
                stored.append(Double(firing.latenessMilliseconds))
                guard let jobID = firing.jobID else { continue }
                let job = try await client.get("/v1/jobs/\(jobID)", as: JobSnapshot.self)
                if let confirmed = job.history?.first(where: { $0.to == .queued }) {
                    queued.append(confirmed.at.timeIntervalSince(firing.scheduledFor) * 1000)
                }
            }
        }
        guard stored.count >= schedules * minutes else {
            throw ValidationError("\(stored.count) firings started jobs, not \(schedules * minutes)")
        }
        printTable([
            ("firings", "\(stored.count)"),
            ("firing → job stored", Self.summary(stored)),
            ("firing → job queued (broker confirmed)", Self.summary(queued)),
        ])
    }

    static func summary(_ values: [Double]) -> String {
        let percentiles = Percentiles(values)
        return String(format: "p50 %.0f ms, p99 %.0f ms, max %.0f ms", percentiles.value(50), percentiles.value(99),
                      percentiles.max)
    }
}
