import Foundation
import Shared
import TestSupport
import Testing

@Suite("Worker memory")
struct WorkerMemoryTests {
    @Test("an idle botyard-worker gives back the memory its start and its last job used, and runs the next job as before")
    func idleWorkerReleasesMemory() async throws {
        try await Fleet.run(workers: 0) { fleet in
            try await fleet.register(CreateBotRequest(name: "noop", argv: ["/bin/true"]))
            try await WorkerProcesses.with(url: fleet.url, folder: fleet.folder) { workers in
                let worker = try await workers.start("idle-process", AdmissionTests.workerOptions(
                    host: "h1", accounts: ["robot1"]) + ["--release-memory-after", "1", "--log-level", "debug"])
                let first = try await fleet.submit(SubmitJobRequest(bot: "noop", group: "g1"))
                #expect(try await fleet.waitForJob(first).state == .succeeded)

                // Released a second or two after the job's end (which may come before this look at
                // it, on a loaded machine), to well under the peak of its start and its job; looked at
                // until the worker has said so too, as it does once the release returned: a look in
                // the middle of the release may see the pages going before the word comes.
                var resident: (now: Int, peak: Int)?
                var said = false
                let released = await waitUntilGone(timeout: .seconds(20), poll: .milliseconds(100)) {
                    resident = ProcessMemory.residentKiB(of: worker.pid)
                    said = worker.logText.contains("memory released while idle")
                    return said && resident.map { $0.now < $0.peak * 3 / 4 } ?? false
                }
                let memory = "resident \(resident?.now ?? -1) KiB, at its peak \(resident?.peak ?? -1) KiB"
                #expect(released, "\(memory); the worker \(said ? "said so" : "did not say so")")

                let second = try await fleet.submit(SubmitJobRequest(bot: "noop", group: "g1"))
                #expect(try await fleet.waitForJob(second).state == .succeeded)
                _ = await worker.stop()
            }
        }
    }
}
