import Foundation

/// Celery doing Botyard's end-to-end unit of work (a task that runs `/bin/true` as a child and
/// records its exit code and output) on the same broker: `ops/celery/drive.py`, run by the
/// Python of the virtual environment that `ops/bench --compare celery` prepared. The driver
/// starts a prefork worker with the same number of slots, acks late, and times every run from the
/// first submission to the last completion, as this bench times Botyard's.
struct CeleryComparison {
    let python: String
    let driver: String

    struct Figures: Decodable {
        let tasksPerSecond: Double
        /// Submit → the task started, milliseconds.
        let startP50: Double
        let startP99: Double
        let tasks: Int
        /// What a task cost every process on the machine (``MachineCPU``), median of the runs, in ms.
        let machineCPUMilliseconds: Double

        var machineCPUPerTask: Duration { .microseconds(Int64(machineCPUMilliseconds * 1000)) }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func run(amqpURL: String, tasks: Int, concurrency: Int, repeats: Int) throws -> Figures {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [driver, "--broker", amqpURL, "--tasks", "\(tasks)", "--concurrency", "\(concurrency)",
                             "--repeats", "\(repeats)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(decoding: printed, as: UTF8.self).split(separator: "\n").last
        else {
            throw Failure(description: "the Celery driver failed (exit \(process.terminationStatus))")
        }
        return try JSONDecoder().decode(Figures.self, from: Data(line.utf8))
    }
}
