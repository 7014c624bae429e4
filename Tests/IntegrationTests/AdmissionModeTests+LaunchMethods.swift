import Foundation
import Hummingbird
import Shared
import TestSupport
import Testing

/// Launches that name no admission mode, against a dispatcher and a real worker process: the
/// group's launch-admission table picks the mode by launch method, as in Kofax.
extension AdmissionModeTests {
    /// A bot that runs until the file `go` in the fleet's folder exists.
    func registerHold(_ fleet: Fleet) async throws -> URL {
        let go = fleet.folder.appendingPathComponent("go")
        let hold = ["/bin/sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done", go.path]
        try await fleet.register(CreateBotRequest(name: "hold", argv: hold, timeoutSeconds: 60))
        return go
    }

    @Test("no slot free: a schedule launch waits, an api launch is bounded by maxQueued, a manual one is refused")
    func launchMethods() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let go = try await registerHold(fleet)
            #expect(try await fleet.api.send(.put, "/v1/groups/g1", #"{"maxQueued": 2}"#).status == .ok)
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("methods", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:1"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.group("g1")?.slots == 1 }

                let first = try await fleet.launch("hold", nil, method: .api)
                #expect(first.status == .created)
                try await fleet.waitForJob(try #require(first.jobID)) { $0.state == .running }

                let manual = try await fleet.launch("hold", nil, method: .manual)
                #expect(manual.status == .tooManyRequests && manual.code == "no_slots_available")
                #expect(manual.message == "No slots available: all 1 slots of group g1 are taken")
                #expect(try await fleet.job(try #require(manual.jobID)).state == .rejected)

                #expect(try await fleet.launch("hold", nil, method: .schedule).status == .created)
                #expect(try await fleet.launch("hold", nil, method: .api).status == .created)
                let over = try await fleet.launch("hold", nil)  // no method: api
                #expect(over.status == .tooManyRequests)
                #expect(over.message == "No slots available: all 1 slots of group g1 are taken, and the group has its "
                        + "maximum of 2 jobs waiting")
                // A schedule launch still waits, over the bound.
                let scheduled = try await fleet.launch("hold", nil, method: .schedule)
                #expect(scheduled.status == .created)
                #expect(try await fleet.group("g1")?.waiting == 3)

                FileManager.default.createFile(atPath: go.path, contents: nil)
                try await waitUntil(timeout: .seconds(30)) {
                    try await fleet.store.jobCounts()[.succeeded, default: 0] == 4
                }
                // With the slot free again, a manual launch is taken in.
                let again = try await fleet.launch("hold", nil, method: .manual)
                #expect(again.status == .created)
                #expect(try await fleet.waitForJob(try #require(again.jobID)).state == .succeeded)
            }
        }
    }

    @Test("a bounded launch with free slots is taken in although the group's maxQueued is 0")
    func boundedWithFreeSlots() async throws {
        try await Fleet.run(workers: 0) { fleet in
            let go = try await registerHold(fleet)
            let settings = try await fleet.api.send(.put, "/v1/groups/g1", #"{"maxQueued": 0}"#)
            #expect(try settings.decode(GroupStatus.self).launchAdmission[.api] == .bounded)
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                _ = try await workers.start("free", AdmissionTests.workerOptions(host: "h1", accounts: ["robot1:2"]))
                try await waitUntil(timeout: .seconds(20)) { try await fleet.group("g1")?.slots == 2 }

                #expect(try await fleet.launch("hold", nil).status == .created)
                #expect(try await fleet.launch("hold", .bounded).status == .created)
                let full = try await fleet.launch("hold", .bounded)
                #expect(full.status == .tooManyRequests)
                #expect(full.message == "No slots available: all 2 slots of group g1 are taken, and the group has its "
                        + "maximum of 0 jobs waiting")

                FileManager.default.createFile(atPath: go.path, contents: nil)
                try await waitUntil(timeout: .seconds(30)) {
                    try await fleet.store.jobCounts()[.succeeded, default: 0] == 2
                }
            }
        }
    }
}
