import Foundation
import Testing

@testable import Shared

@Suite("Launch-admission table")
struct LaunchAdmissionTableTests {
    func decode(_ json: String) throws(CodecError) -> LaunchAdmissionTable {
        try JSONCodec.decode(LaunchAdmissionTable.self, from: Data(json.utf8))
    }

    @Test("Kofax's defaults: schedule and orchestration queue, api and bot-started bounded, manual sync")
    func defaults() {
        let table = LaunchAdmissionTable()
        #expect(table.effective == [
            .schedule: .queue, .queueTrigger: .queue, .pipeline: .queue, .workflow: .queue,
            .api: .bounded, .botStartedByBot: .bounded, .manual: .sync,
        ])
        #expect(LaunchMethod.allCases.allSatisfy { table.mode(for: $0) == LaunchAdmissionTable.defaultMode(for: $0) })
    }

    @Test("an override replaces its method's default and leaves the others")
    func overrides() {
        let table = LaunchAdmissionTable([.manual: .queue, .api: .sync])
        #expect(table.mode(for: .manual) == .queue && table.mode(for: .api) == .sync)
        #expect(table.mode(for: .schedule) == .queue && table.mode(for: .botStartedByBot) == .bounded)
        #expect(table.effective.count == LaunchMethod.allCases.count)
    }

    @Test("in JSON it is an object keyed by launch method holding the overrides only")
    func json() throws {
        let table = LaunchAdmissionTable([.manual: .queue, .queueTrigger: .sync])
        let text = String(decoding: try JSONCodec.encode(table), as: UTF8.self)
        #expect(text == #"{"manual":"queue","queue-trigger":"sync"}"#)
        #expect(try decode(text) == table)
        #expect(try decode("{}") == LaunchAdmissionTable())
    }

    @Test("an unknown method or mode is refused, naming the entry and the choices; a non-string is a wrong shape")
    func refused() throws {
        let method = #expect(throws: CodecError.self) { try decode(#"{"cron": "queue"}"#) }
        #expect(method?.refused == true)
        #expect(method?.detail == "invalid value at 'cron': unknown launch method 'cron'; one of manual, api, "
                + "schedule, queue-trigger, pipeline, workflow, bot-started-by-bot")
        let mode = #expect(throws: CodecError.self) { try decode(#"{"api": "later"}"#) }
        #expect(mode?.refused == true)
        #expect(mode?.detail == "invalid value at 'api': unknown admission mode 'later' for api; one of queue, "
                + "bounded, sync")
        let shape = #expect(throws: CodecError.self) { try decode(#"{"api": 3}"#) }
        #expect(shape?.refused == false)
        #expect(#expect(throws: CodecError.self) { try decode(#"["api"]"#) }?.refused == false)
    }

    @Test("the command line's METHOD=MODE entries set one method each")
    func entries() throws {
        var table = LaunchAdmissionTable()
        try table.set("manual=queue")
        try table.set("bot-started-by-bot=sync")
        #expect(table == LaunchAdmissionTable([.manual: .queue, .botStartedByBot: .sync]))
        #expect(throws: RefusedValue("expected METHOD=MODE, e.g. manual=queue")) { try table.set("manual") }
        #expect(throws: RefusedValue.self) { try table.set("manual=") }
        #expect(throws: RefusedValue.self) { try table.set("=queue") }
    }

    @Test("group settings without a table take the defaults; a bad entry in them is refused with its path")
    func groupSettings() throws {
        let plain = try JSONCodec.decode(GroupSettings.self, from: Data(#"{"maxQueued": 3}"#.utf8))
        #expect(plain == GroupSettings(maxQueued: 3))
        let set = try JSONCodec.decode(GroupSettings.self, from: Data(#"{"launchAdmission": {"api": "sync"}}"#.utf8))
        #expect(set == GroupSettings(launchAdmission: LaunchAdmissionTable([.api: .sync])))
        let bad = #expect(throws: CodecError.self) {
            try JSONCodec.decode(GroupSettings.self, from: Data(#"{"launchAdmission": {"manul": "queue"}}"#.utf8))
        }
        #expect(bad?.refused == true)
        let detail = try #require(bad?.detail)
        #expect(detail.hasPrefix("invalid value at 'launchAdmission.manul': unknown launch method 'manul'"))
    }

    @Test("a group's status shows its effective table as an object keyed by launch method")
    func status() throws {
        let effective = LaunchAdmissionTable([.manual: .queue]).effective
        let status = GroupStatus(name: "g1", maxQueued: nil, launchAdmission: effective, waiting: 0, running: 0,
                                 workers: 0, slots: 0, uiSlots: 0)
        let json = try JSONSerialization.jsonObject(with: try JSONCodec.encode(status))
        let object = try #require(json as? [String: Any])
        let table = try #require(object["launchAdmission"] as? [String: String])
        #expect(table == ["manual": "queue", "api": "bounded", "schedule": "queue", "queue-trigger": "queue",
                          "pipeline": "queue", "workflow": "queue", "bot-started-by-bot": "bounded"])
        #expect(try JSONCodec.decode(GroupStatus.self, from: try JSONCodec.encode(status)) == status)
    }
}
