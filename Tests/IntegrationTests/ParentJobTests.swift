import Foundation
import Shared
import TestSupport
import Testing

/// Bots that start bots with `botyard submit` from inside their jobs (launch method `bot-started-by-bot`).
/// The fleet's worker has four slots, so a parent waiting for its child never holds the child's slot.
@Suite("A bot that starts a bot")
struct ParentJobTests {
    static let botyard = WorkerProcess.binaries.appendingPathComponent("botyard").path

    /// Registers `name` as a shell bot running `script`, with one attempt (a rerun would start a second child).
    func register(_ name: String, _ script: String, in fleet: Fleet) async throws {
        let path = fleet.folder.appendingPathComponent("\(name).sh")
        try "#!/bin/sh\n\(script)\n".write(to: path, atomically: true, encoding: .utf8)
        try await fleet.register(CreateBotRequest(name: name, argv: ["/bin/sh", path.path], timeoutSeconds: 60,
                                                  retry: .fixed(maxAttempts: 1, waitMilliseconds: 0)))
    }

    /// The only child of job `parent`, found through `GET /v1/jobs?parent=`.
    func child(of parent: Int64, in fleet: Fleet) async throws -> JobSnapshot {
        let children = try await fleet.api.send(.get, "/v1/jobs?parent=\(parent)").decode([JobSnapshot].self)
        try #require(children.count == 1, "children of job \(parent): \(children.map(\.id))")
        return children[0]
    }

    @Test("a bot runs `botyard submit --wait`: the child is bot-started-by-bot by its job; the parent ends after it")
    func parentWaitsForChild() async throws {
        try await Fleet.run { fleet in
            let written = fleet.folder.appendingPathComponent("child.out")
            try await register("child", #"echo "child $BOTYARD_JOB_ID" > "\#(written.path)""#, in: fleet)
            // The body asks for another launch method and initiator: the dispatcher decides them by the token.
            try await register("parent", """
                "\(Self.botyard)" submit child --group g1 --wait || exit 1
                test -f "\(written.path)"
                """, in: fleet)
            let parentID = try await fleet.submit(SubmitJobRequest(bot: "parent", group: "g1"))
            let parent = try await fleet.waitForJob(parentID, timeout: .seconds(60))
            #expect(parent.state == .succeeded, "\(parent.reason ?? "")")

            let child = try await child(of: parentID, in: fleet)
            #expect(child.state == .succeeded)
            #expect(child.parentJob == parentID)
            #expect(child.launchMethod == .botStartedByBot && child.initiator == "job \(parentID)")
            #expect(try String(contentsOf: written, encoding: .utf8) == "child \(child.id)\n")
            #expect(parent.finishedAt! >= child.finishedAt!, "the parent waited for its child")
            #expect(try await fleet.job(parentID).children == [child.id])
        }
    }

    @Test("a bot that does not wait ends before its child; one waiting for a child that did not succeed exits 4")
    func parentWithoutWaitAndFailedChild() async throws {
        try await Fleet.run { fleet in
            let go = fleet.folder.appendingPathComponent("go")
            // The child holds on until the test has seen its parent end.
            try await register("held", #"while [ ! -f "\#(go.path)" ]; do sleep 0.1; done"#, in: fleet)
            try await register("starter", #""\#(Self.botyard)" submit held --group g1"#, in: fleet)
            try await register("broken", "exit 2", in: fleet)
            try await register("waiter", #"exec "\#(Self.botyard)" submit broken --group g1 --wait"#, in: fleet)

            let starterID = try await fleet.submit(SubmitJobRequest(bot: "starter", group: "g1"))
            #expect(try await fleet.waitForJob(starterID, timeout: .seconds(60)).state == .succeeded)
            let held = try await child(of: starterID, in: fleet)
            #expect(!held.state.isTerminal, "the child is still \(held.state.rawValue) once its parent ended")
            try Data().write(to: go)
            let heldEnded = try await fleet.waitForJob(held.id, timeout: .seconds(60))
            #expect(heldEnded.state == .succeeded && heldEnded.initiator == "job \(starterID)")

            let waiterID = try await fleet.submit(SubmitJobRequest(bot: "waiter", group: "g1"))
            let waiter = try await fleet.waitForJob(waiterID, timeout: .seconds(60))
            let broken = try await child(of: waiterID, in: fleet)
            #expect(broken.state == .dead && broken.exitCode == 2)
            #expect(waiter.state == .dead && waiter.exitCode == 4, "\(waiter.reason ?? "")")
        }
    }
}
