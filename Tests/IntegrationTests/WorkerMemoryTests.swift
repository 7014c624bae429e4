import Foundation
import Shared
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
                let afterJob = try #require(Self.residentKiB(of: worker.pid))
                let releasesBefore = Self.releases(in: worker.logText)

                // A look every second: released within two of the job's end.
                try await waitUntil(timeout: .seconds(20)) { Self.releases(in: worker.logText) > releasesBefore }
                let idle = try #require(Self.residentKiB(of: worker.pid))
                #expect(idle < afterJob * 3 / 4, "resident \(afterJob) KiB after the job, \(idle) KiB idle")

                let second = try await fleet.submit(SubmitJobRequest(bot: "noop", group: "g1"))
                #expect(try await fleet.waitForJob(second).state == .succeeded)
                _ = await worker.stop()
            }
        }
    }

    private static func releases(in log: String) -> Int {
        log.components(separatedBy: "memory released while idle").count - 1
    }

    /// A process's `VmRSS`, in KiB.
    private static func residentKiB(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}
