import ArgumentParser
import Dispatcher
import Foundation
import Shared

/// `botyard-bench triggers`: how long the dispatcher takes to evaluate many queue triggers at
/// once — the periodic recheck of every trigger, each reading its queue's ready and postponed
/// items and its live jobs, deciding, starting jobs and recording its evaluation, in one
/// transaction of the real store.
struct TriggerEvaluation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triggers", abstract: "Times the evaluation of many queue triggers in the store.")

    @Option(help: "Work queues, each with a trigger.") var queues = 1_000
    @Option(help: "Items per queue (a fifth of them postponed).") var itemsPerQueue = 20
    @Option(help: "Recheck passes timed.") var passes = 10
    @Option(help: "Folder for the database.")
    var folder: String = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-bench-triggers").path

    func run() async throws {
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let store = try await BotyardStore.open(path: folder + "/botyard.sqlite", durability: .normal)
        let start = Date()
        try await store.saveBot(BotDefinition(name: "poster", argv: ["/bin/true"], timeoutSeconds: 60))
        for index in 0..<queues {
            let name = "queue-\(index)"
            _ = try await store.saveQueue(WorkQueueDefinition(name: name), replace: false, at: start)
            let items = (0..<itemsPerQueue).map { item in
                AddItemRequest(postponeUntil: item % 5 == 0 ? start.addingTimeInterval(86_400) : nil)
            }
            _ = try await store.addItems(items, to: name, at: start)
            // Half of them UiPath's, half exact; each starts its first jobs when saved.
            _ = try await store.saveTrigger(QueueTriggerDefinition(
                queue: name, bot: "poster", group: "g1", minItemsToTrigger: 5, maxConcurrentJobs: 3, itemsPerJob: 10,
                strategy: index.isMultiple(of: 2) ? .exact : .uipath), at: start)
        }
        var timings: [Double] = []
        var evaluated = 0
        for pass in 1...passes {
            // Each pass is the next recheck of every trigger (30 minutes on).
            let now = start.addingTimeInterval(Double(pass) * 1_801)
            let clock = ContinuousClock.now
            let result = try await store.evaluateDueTriggers(at: now)
            timings.append((ContinuousClock.now - clock).milliseconds)
            evaluated = result.evaluated
        }
        guard evaluated == queues else {
            throw ValidationError("a recheck pass evaluated \(evaluated) triggers, not \(queues)")
        }
        timings.sort()
        let median = timings[timings.count / 2]
        print("trigger evaluation: \(queues) queues × \(itemsPerQueue) items, recheck of every trigger in one pass: "
              + String(format: "p50 %.1f ms, max %.1f ms over %d passes", median, timings.last ?? 0, passes))
    }
}

extension Duration {
    fileprivate var milliseconds: Double {
        Double(components.seconds) * 1_000 + Double(components.attoseconds) / 1e15
    }
}
