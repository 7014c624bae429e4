import Foundation

/// A program run to its end: its exit status and what it wrote.
public struct CommandResult: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String
}

/// Runs `executable` with `arguments` (the test's environment with `environment` laid over it,
/// `input` on its standard input) and waits for its exit without holding a thread: the exit is
/// reported by the process's termination handler.
public func runCommand(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                       input: String = "") async throws -> CommandResult {
    try await withScratchFolder("botyard-command") { folder in
        let outputFile = folder.appendingPathComponent("stdout"), errorsFile = folder.appendingPathComponent("stderr")
        let inputFile = folder.appendingPathComponent("stdin")
        for (file, contents) in [(outputFile, ""), (errorsFile, ""), (inputFile, input)] {
            guard FileManager.default.createFile(atPath: file.path, contents: Data(contents.utf8)) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
            }
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorsFile)
        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return CommandResult(status: status, output: try String(contentsOf: outputFile, encoding: .utf8),
                             errors: try String(contentsOf: errorsFile, encoding: .utf8))
    }
}
