import Foundation
import Hummingbird
import Shared
import TestSupport
import Testing

/// `bounded` and `sync` launches against a dispatcher and a real worker process.
@Suite("Admission modes with live workers")
struct AdmissionModeTests {
    @Test("sync answers No slots available exactly when the group's workers have no slot (or no UI account) free")
    func sync() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let go = fleet.folder.appendingPathComponent("go")
            let hold = ["/bin/sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done", go.path]
            try await fleet.register(CreateBotRequest(name: "hold", argv: hold, timeoutSeconds: 60))
            try await fleet.register(CreateBotRequest(name: "hold-ui", argv: hold, needsUI: true, timeoutSeconds: 60))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("sync", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:2"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.group("g1")?.slots == 2 }

                let ui = try await fleet.launch("hold-ui", .sync)
                #expect(ui.status == .created)
                let secondUI = try await fleet.launch("hold-ui", .sync)
                #expect(secondUI.status == .tooManyRequests && secondUI.code == "no_slots_available")
                #expect(secondUI.message == "No slots available: every account of group g1 runs a UI bot already")
                #expect(try await fleet.launch("hold", .sync).status == .created)
                let full = try await fleet.launch("hold", .sync)
                #expect(full.message == "No slots available: all 2 slots of group g1 are taken")
                let rejected = try await fleet.job(try #require(full.jobID))
                #expect(rejected.state == .rejected && rejected.reason == full.message)
                #expect(try await fleet.launch("hold", .queue).status == .created)  // queue mode waits instead

                FileManager.default.createFile(atPath: go.path, contents: nil)
                try await waitUntil(timeout: .seconds(20)) {
                    try await fleet.store.jobCounts()[.succeeded, default: 0] == 3
                }
                #expect(try await fleet.launch("hold", .sync).status == .created)
            }
        }
    }

    @Test("bounded with no worker answers No slots available at maxQueued waiting, and takes launches when it drains")
    func bounded() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "quick", argv: ["/bin/true"], timeoutSeconds: 30))
            let settings = try await fleet.api.send(.put, "/v1/groups/g1", #"{"maxQueued": 2}"#)
            #expect(settings.status == .ok)
            // No worker serves g1 yet: launches wait.
            #expect(try await fleet.launch("quick", .bounded).status == .created)
            #expect(try await fleet.launch("quick", .bounded).status == .created)
            let over = try await fleet.launch("quick", .bounded)
            #expect(over.status == .tooManyRequests && over.code == "no_slots_available")
            #expect(over.message == "No slots available: no worker of group g1 is active, and the group has its maximum "
                    + "of 2 jobs waiting")
            #expect(try await fleet.launch("quick", .queue).status == .created)

            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("bounded", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1"]))
                try await waitUntil(timeout: .seconds(20)) {
                    try await fleet.store.jobCounts()[.succeeded, default: 0] == 3
                }
            }
            #expect(try await fleet.launch("quick", .bounded).status == .created)
        }
    }
}

/// The answer to one launch.
struct LaunchAnswer {
    var status: HTTPResponse.Status
    var code: String?
    var message: String?
    var jobID: Int64?
}

extension Fleet {
    /// Launches `bot` in g1 through the API; with no `admission`, g1's table picks it by `method`.
    func launch(_ bot: String, _ admission: AdmissionMode?, method: LaunchMethod? = nil) async throws -> LaunchAnswer {
        let request = SubmitJobRequest(bot: bot, group: "g1", launchMethod: method, admission: admission)
        let response = try await api.send(.post, "/v1/jobs", String(decoding: try JSONCodec.encode(request), as: UTF8.self))
        if response.status == .created {
            return LaunchAnswer(status: response.status, jobID: try response.decode(JobCreated.self).id)
        }
        let error = try response.decode(APIErrorBody.self).error
        return LaunchAnswer(status: response.status, code: error.code, message: error.message, jobID: error.jobID)
    }

    func group(_ name: String) async throws -> GroupStatus? {
        try await api.send(.get, "/v1/groups").decode([GroupStatus].self).first { $0.name == name }
    }
}
