/// A scenario that cannot run, with every reason.
public struct TriggerScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public var scenario: String
    public var problems: [String]

    public var description: String {
        "scenario \(scenario) cannot run: " + problems.joined(separator: "; ")
    }
}
