import BotyardClient
import Foundation
import Shared
import Testing

@Suite("apply -f: the plan")
struct ApplyPlanTests {
    static let file = """
        bots:
          - {name: reader, argv: [/bin/echo, hi], timeoutSeconds: 30}
        queues:
          - {name: invoices, leaseSeconds: 60}
          - {name: orders}
        """

    /// The dispatcher's state as the file would leave it, read back from its own resources.
    static func state(of yaml: String) throws -> [ResourceKind: [String: ResourceState]] {
        ApplyPlan.state(after: try ApplyManifest(yaml: yaml, environment: [:]).resources)
    }

    @Test("against an empty dispatcher everything is created; against the same state nothing changes")
    func createThenNothing() throws {
        let desired = try ApplyManifest(yaml: Self.file, environment: [:]).resources
        let first = ApplyPlan(desired: desired, current: [:], prune: false)
        #expect(first.changes.map(\.description) == ["+ bot reader", "+ queue invoices", "+ queue orders"])
        let second = ApplyPlan(desired: desired, current: try Self.state(of: Self.file), prune: true)
        #expect(!second.changesSomething)
        #expect(second.summary == "0 to create, 0 to update, 0 to delete, 3 unchanged")
    }

    @Test("a changed field is an update that names the field, old and new")
    func update() throws {
        let changed = Self.file.replacingOccurrences(of: "leaseSeconds: 60", with: "leaseSeconds: 90")
        let plan = ApplyPlan(desired: try ApplyManifest(yaml: changed, environment: [:]).resources,
                             current: try Self.state(of: Self.file), prune: false)
        #expect(plan.changes.map(\.description) == [
            "= bot reader (unchanged)", "~ queue invoices\n    leaseSeconds: 60 → 90", "= queue orders (unchanged)",
        ])
    }

    @Test("--prune deletes what the file no longer names, last kinds first; bots are kept, and said so")
    func prune() throws {
        let current = try Self.state(of: """
            bots:
              - {name: reader, argv: [/bin/echo, hi], timeoutSeconds: 30}
              - {name: old, argv: [/bin/true]}
            queues:
              - {name: invoices, leaseSeconds: 60}
              - {name: orders}
              - {name: spare}
            schedules:
              - {name: nightly, target: {bot: reader, group: g1}, cron: "0 3 * * *", timeZone: UTC}
            """)
        let desired = try ApplyManifest(yaml: Self.file, environment: [:]).resources
        let plan = ApplyPlan(desired: desired, current: current, prune: true)
        #expect(plan.changes.filter { $0.action != .unchanged }.map(\.description) == [
            "- schedule nightly", "- queue spare",
            "! bot old (not in the file; apply does not delete a bot)",
        ])
        #expect(plan.summary == "0 to create, 0 to update, 2 to delete, 3 unchanged, 1 kept (the API deletes no bot, "
                    + "group or credential)")
        #expect(ApplyPlan(desired: desired, current: current, prune: false).changesSomething == false)
    }
}
