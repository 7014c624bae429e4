import BotyardClient
import Foundation
import Shared
import Testing

@Suite("apply -f: reading the file")
struct ApplyManifestTests {
    static let everyKind = """
        calendars:
          - name: holidays
            nonWorkingDates: ["2030-12-25"]
        bots:
          - name: reader
            argv: [/bin/echo, hi]
            timeoutSeconds: 30
        groups:
          - name: office
            maxQueued: 10
            launchAdmission: {manual: queue}
        credentials:
          - {host: h1, account: clerk, username: svc, passwordEnv: CLERK_PASSWORD}
        queues:
          - {name: invoices, leaseSeconds: 60}
        pipelines:
          - name: month-end
            group: office
            steps: [{bot: reader}, {bot: reader}]
        workflows:
          - name: intake
            group: office
            nodes: [{id: a, bot: reader}, {id: b, bot: reader}]
            edges: [{from: a, to: b, on: success}]
        triggers:
          - {queue: invoices, bot: reader, group: office}
        schedules:
          - name: nightly
            target: {bot: reader, group: office}
            cron: "0 3 * * *"
            timeZone: Europe/Berlin
        """

    @Test("a file of every kind is read in the order apply writes it, each entry named")
    func everyKind() throws {
        let manifest = try ApplyManifest(yaml: Self.everyKind, environment: ["CLERK_PASSWORD": "s3cret"])
        #expect(manifest.resources.map { "\($0.kind.rawValue) \($0.name)" } == [
            "calendars holidays", "bots reader", "groups office", "credentials h1/clerk", "queues invoices",
            "pipelines month-end", "workflows intake", "triggers invoices", "schedules nightly",
        ])
        #expect(manifest.resources.first { $0.kind == .queues }?.line == 15)
    }

    @Test("a bad file is refused whole, every problem named with its line")
    func everyProblemWithItsLine() throws {
        let file = """
            bots:
              - name: reader
                argv: [/bin/true]
                timeoutSecond: 30
              - name: reader
                argv: [/bin/true]
              - name: counter
                argv: [/bin/true]
                timeoutSeconds: soon
              - name: "no good"
                argv: [/bin/true]
            credentials:
              - {host: h1, account: clerk, username: svc, password: plain}
              - {host: h1, account: desk, username: svc, passwordEnv: NOT_SET}
            queues:
              - leaseSeconds: 60
            robots:
              - name: x
            """
        let error = #expect(throws: ManifestProblems.self) {
            try ApplyManifest(yaml: file, environment: [:])
        }
        let problems = try #require(error).problems.map(\.description)
        #expect(problems == [
            "line 2: bots[0] 'reader': unknown field 'timeoutSecond' (line 4)",
            "line 5: bots[1] 'reader': named twice in the file",
            "line 9: bots[2]: wrong type at 'timeoutSeconds': expected Int",
            "line 10: bots[3] 'no good': name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                + "or digit",
            "line 13: credentials[0] 'h1/clerk': unknown field 'password' (line 13)",
            "line 13: credentials[0] 'h1/clerk': name exactly one of passwordEnv and passwordFile (never the password "
                + "itself)",
            "line 14: credentials[1] 'h1/desk': passwordEnv: the environment variable NOT_SET is not set",
            "line 16: queues[0]: missing field 'name'",
            "line 17: unknown section 'robots'; one of calendars, bots, groups, credentials, queues, pipelines, "
                + "workflows, triggers, schedules",
        ])
    }

    @Test("what is not YAML, or not sections of lists, is refused")
    func notSections() {
        for text in ["bots: [unclosed", "- just\n- a list", "bots: {name: x}"] {
            #expect(throws: ManifestProblems.self, "\(text)") { try ApplyManifest(yaml: text, environment: [:]) }
        }
    }
}
