import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

@Suite("HTTP API: schedules and calendars")
struct ScheduleAPITests {
    func withRouter(_ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            try await store.saveBot(BotDefinition(name: "reporter", argv: ["/bin/true"], timeoutSeconds: 30))
            let app = Application(router: buildRouter(store: store, robotQueueSignal: WakeSignal()))
            try await app.test(.router) { client in
                try await body(APIClient(client: client, token: try store.testToken()))
            }
        }
    }

    static func schedule(cron: String = "0 7 * * Mon-Fri", zone: String = "Europe/Berlin",
                         extra: String = "") -> String {
        #"{"target": {"bot": "reporter", "group": "g1"}, "cron": "\#(cron)", "timeZone": "\#(zone)"\#(extra)}"#
    }

    /// The 422's message.
    func problems(_ response: TestResponse) throws -> String {
        #expect(response.status == .unprocessableContent)
        return try response.decode(APIErrorBody.self).error.message
    }

    @Test("PUT creates (201) then replaces (200); GET shows the next five firings on the zone's clocks; pause, resume, delete")
    func lifecycle() async throws {
        try await withRouter { client in
            let created = try await client.send(.put, "/v1/schedules/morning", Self.schedule())
            #expect(created.status == .created && created.headers[.location] == "/v1/schedules/morning")
            let saved = try created.decode(ScheduleSnapshot.self)
            #expect(saved.definition.name == "morning" && saved.nextFirings.count == 5)
            #expect(saved.nextFirings.allSatisfy { $0.local.contains("T07:00:00+01:00") || $0.local.contains("T07:00:00+02:00") })
            #expect(try await client.send(.put, "/v1/schedules/morning", Self.schedule()).status == .ok)
            let paused = try await client.send(.post, "/v1/schedules/morning/pause").decode(ScheduleSnapshot.self)
            #expect(!paused.definition.enabled && paused.nextFirings.isEmpty)
            let resumed = try await client.send(.post, "/v1/schedules/morning/resume").decode(ScheduleSnapshot.self)
            #expect(resumed.definition.enabled && resumed.nextFirings.count == 5)
            let listed = try await client.send(.get, "/v1/schedules").decode([ScheduleSnapshot].self)
            #expect(listed.map(\.definition.name) == ["morning"])
            #expect(try await client.send(.get, "/v1/schedules/morning/firings").decode([ScheduleFiring].self).isEmpty)
            #expect(try await client.send(.delete, "/v1/schedules/morning").status == .noContent)
            for path in ["/v1/schedules/morning", "/v1/schedules/morning/firings"] {
                #expect(try await client.send(.get, path).errorCode() == "not_found")
            }
            #expect(try await client.send(.post, "/v1/schedules/morning/pause").errorCode() == "not_found")
        }
    }

    @Test("an invalid cron, an unknown time zone, a window that never opens and an unknown bot are 422 with the reason")
    func invalidSchedules() async throws {
        try await withRouter { client in
            let cron = try problems(try await client.send(.put, "/v1/schedules/x", Self.schedule(cron: "0 25 * * *")))
            #expect(cron == "cron: hour: 25 is out of 0-23")
            let zone = try problems(try await client.send(.put, "/v1/schedules/x", Self.schedule(zone: "Mars/Olympus")))
            #expect(zone == "unknown time zone 'Mars/Olympus'")
            let closed = #", "window": {"days": ["mon"], "start": "08:00", "end": "08:00"}"#
            let window = try problems(try await client.send(.put, "/v1/schedules/x", Self.schedule(extra: closed)))
            #expect(window == "window: never opens: it starts and ends at 08:00")
            let weekend = #", "window": {"days": ["sat", "sun"], "start": "00:00", "end": "24:00"}"#
            let never = try problems(try await client.send(.put, "/v1/schedules/x", Self.schedule(extra: weekend)))
            #expect(never.hasPrefix("window: none of its next 1000 firings falls inside Sat, Sun 00:00–24:00"))
            let nobody = #"{"target": {"bot": "nobody", "group": "g1"}, "cron": "@daily"}"#
            #expect(try problems(try await client.send(.put, "/v1/schedules/x", nobody)) == "no bot named 'nobody'")
            #expect(try await client.send(.get, "/v1/schedules").decode([ScheduleSnapshot].self).isEmpty)
        }
    }

    @Test("calendars: PUT, GET, a date that does not exist is refused, and DELETE is 409 while a schedule names it")
    func calendars() async throws {
        try await withRouter { client in
            let created = try await client.send(.put, "/v1/calendars/holidays",
                                                #"{"nonWorkingDates": ["2026-12-25", "2026-12-24"]}"#)
            #expect(created.status == .created)
            #expect(try created.decode(WorkingDayCalendar.self).nonWorkingDates.map(\.description)
                == ["2026-12-24", "2026-12-25"])
            let bad = try await client.send(.put, "/v1/calendars/holidays", #"{"nonWorkingDates": ["2026-02-30"]}"#)
            #expect(bad.status == .badRequest)
            #expect(try await client.send(.put, "/v1/schedules/morning",
                                          Self.schedule(extra: #", "calendar": "holidays""#)).status == .created)
            let inUse = try await client.send(.delete, "/v1/calendars/holidays")
            #expect(inUse.status == .conflict)
            #expect(try inUse.errorCode() == "conflict")
            #expect(try await client.send(.delete, "/v1/schedules/morning").status == .noContent)
            #expect(try await client.send(.delete, "/v1/calendars/holidays").status == .noContent)
            #expect(try await client.send(.get, "/v1/calendars/holidays").errorCode() == "not_found")
        }
    }
}
