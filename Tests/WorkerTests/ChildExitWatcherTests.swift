import Foundation
import TestSupport
import Testing

@testable import Worker

@Suite("Child exit watcher")
struct ChildExitWatcherTests {
    @Test("sixty bots are waited for at once by the one watcher, and each is told its own end")
    func manyChildrenOneThread() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-exits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let go = folder.appendingPathComponent("go").path
        let bots = try (0..<60).map { index in
            // Each waits for the test's signal; codes 0...29 by exit, the others by a signal of their
            // own (SIGTERM, SIGKILL alternately).
            let end = index < 30 ? "exit \(index)" : "kill -\(index % 2 == 0 ? 15 : 9) $$"
            return try BotProcess.spawn(argv: ["/bin/sh", "-c", "while [ ! -e '\(go)' ]; do sleep 0.05; done; \(end)"],
                                        environment: [:], workingDirectory: nil,
                                        logPath: folder.appendingPathComponent("bot-\(index)").path)
        }
        let terminations = try await withThrowingTaskGroup(of: (Int, BotProcess.Termination).self) { group in
            for (index, bot) in bots.enumerated() { group.addTask { (index, await bot.waitForExit()) } }
            // Other tests of the process may be waiting for bots of their own meanwhile.
            // All sixty in the watcher's epoll set at once (other tests of the process may add theirs).
            let watched = await waitUntilGone(timeout: .seconds(30)) { ChildExitWatcher.shared.waitingCount >= 60 }
            #expect(watched, "\(ChildExitWatcher.shared.waitingCount) children watched")
            FileManager.default.createFile(atPath: go, contents: nil)
            var ended: [Int: BotProcess.Termination] = [:]
            for try await (index, termination) in group { ended[index] = termination }
            return ended
        }
        for index in 0..<60 {
            let expected: BotProcess.Termination = index < 30 ? .exited(Int32(index))
                : .signalled(index % 2 == 0 ? SIGTERM : SIGKILL)
            #expect(terminations[index] == expected, "bot \(index)")
        }
    }
}
