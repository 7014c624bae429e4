import Foundation
import Testing

@testable import Worker

@Suite("Child exit watcher")
struct ChildExitWatcherTests {
    static func threads() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") } ?? ""
        return Int(line.split(separator: "\t").last ?? "") ?? 0
    }

    @Test("sixty bots exiting at once are each told their own end, and no thread is started per bot")
    func manyChildrenOneThread() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-exits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // The watcher's own thread exists before the count is taken.
        let warmUp = try BotProcess.spawn(argv: ["/bin/true"], environment: [:], workingDirectory: nil,
                                          logPath: folder.appendingPathComponent("warm-up").path)
        _ = await warmUp.waitForExit()

        let bots = try (0..<60).map { index in
            // Codes 0...29 by exit, the others by a signal of their own (SIGTERM, SIGKILL alternately).
            let script = index < 30 ? "sleep 0.5; exit \(index)" : "sleep 0.5; kill -\(index % 2 == 0 ? 15 : 9) $$"
            return try BotProcess.spawn(argv: ["/bin/sh", "-c", script], environment: [:], workingDirectory: nil,
                                        logPath: folder.appendingPathComponent("bot-\(index)").path)
        }
        let before = Self.threads()
        let terminations = await withTaskGroup(of: (Int, BotProcess.Termination).self) { group in
            for (index, bot) in bots.enumerated() { group.addTask { (index, await bot.waitForExit()) } }
            var ended: [Int: BotProcess.Termination] = [:]
            var busiest = 0
            for await (index, termination) in group {
                ended[index] = termination
                busiest = max(busiest, Self.threads())
            }
            #expect(busiest <= before + 4, "threads: \(before) before, \(busiest) while waiting")
            return ended
        }
        for index in 0..<60 {
            let expected: BotProcess.Termination = index < 30 ? .exited(Int32(index))
                : .signalled(index % 2 == 0 ? SIGTERM : SIGKILL)
            #expect(terminations[index] == expected, "bot \(index)")
        }
    }
}
