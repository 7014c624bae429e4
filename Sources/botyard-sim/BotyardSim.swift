import ArgumentParser
import Shared
import TriggerSimulation

@main
struct BotyardSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard-sim",
        abstract: "Runs queue-trigger scenarios on a simulated clock under uipath (both settings) and exact."
    )

    @Argument(help: "Scenarios to run (default: all). --list names them.")
    var scenarios: [String] = []

    @Flag(help: "List the scenarios and exit.")
    var list = false

    @Flag(help: "Print every evaluation of the trigger that started a job.")
    var trace = false

    func validate() throws {
        let unknown = scenarios.filter { TriggerScenario.named($0) == nil }
        if !unknown.isEmpty {
            throw ValidationError("unknown scenario(s): \(unknown.joined(separator: ", ")); --list names them")
        }
    }

    func run() throws {
        if list {
            for scenario in TriggerScenario.catalog { print("\(scenario.name)  \(scenario.summary)") }
            return
        }
        let chosen = scenarios.isEmpty ? TriggerScenario.catalog : scenarios.compactMap(TriggerScenario.named)
        var table = Table(headers: ReportRow.headers)
        var stranded: [String] = []
        for scenario in chosen {
            for variant in TriggerVariant.allCases {
                var simulator = try TriggerSimulator(scenario: scenario, variant: variant)
                let report = simulator.run()
                if trace { printTrace(simulator) }
                table.rows.append(ReportRow(report).cells)
                if report.itemsLeft > 0 {
                    stranded.append("\(scenario.name), \(variant.label): \(report.itemsLeft) items never done")
                }
            }
        }
        for scenario in chosen { print("\(scenario.name): \(scenario.summary)") }
        print()
        print(table.rendered)
        for line in stranded { print(line) }
    }

    private func printTrace(_ simulator: TriggerSimulator) {
        print("\(simulator.scenario.name), \(simulator.variant.label):")
        for decision in simulator.decisions where decision.evaluation.jobsToStart > 0 {
            let inputs = decision.evaluation.inputs
            print("  \(Clock.format(decision.time))  \(decision.cause): ready \(inputs.readyItems), "
                + "in progress \(inputs.inProgressItems), pending \(inputs.pendingJobs), running "
                + "\(inputs.runningJobs) → start \(decision.evaluation.jobsToStart)")
        }
    }
}
