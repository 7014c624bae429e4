import Foundation
import Shared

/// A test bot that writes a line when it starts and when it ends, so that a test can check
/// afterwards what ran at the same time, where, and in which order.
///
/// argv: `/bin/sh stamp-bot.sh STAMPS SECONDS [SECONDS_ON_LATER_ATTEMPTS]`; each line is
/// `start|end <ns> <job> <account> <attempt> <pid> <tag input>`. A bot killed with SIGKILL writes
/// no end; while it lives it holds a lock that tells ``EndWatch`` when it died.
struct StampBot: Sendable {
    let script: URL
    let stamps: URL

    init(folder: URL) throws {
        script = folder.appendingPathComponent("stamp-bot.sh")
        stamps = folder.appendingPathComponent("stamps")
        try """
        #!/bin/sh
        stamps=$1; seconds=$2
        if [ "$BOTYARD_ATTEMPT" != 1 ] && [ -n "$3" ]; then seconds=$3; fi
        # Locked until this shell and its sleep are both gone, however they end.
        exec 9> "$stamps.$$.lock"
        flock 9
        line() { echo "$1 $(date +%s%N) $BOTYARD_JOB_ID $BOTYARD_ACCOUNT $BOTYARD_ATTEMPT $$ ${BOTYARD_INPUT_TAG:--}"; }
        line start >> "$stamps"
        sleep "$seconds"
        line end >> "$stamps"
        """.write(to: script, atomically: true, encoding: .utf8)
    }

    /// A bot definition running this script. It does not look at its stop file, so its stop grace is
    /// short: a stop takes a second before SIGTERM.
    func bot(_ name: String, seconds: Double, laterSeconds: Double? = nil, needsUI: Bool = false,
             marks: [String] = [], stopGraceSeconds: Int = 1, cleanup: [String]? = nil,
             timeoutSeconds: Int = 120, retry: RetryPolicy? = nil) -> CreateBotRequest {
        CreateBotRequest(name: name, argv: ["/bin/sh", script.path, stamps.path, String(seconds)]
                             + (laterSeconds.map { [String($0)] } ?? []),
                         needsUI: needsUI, timeoutSeconds: timeoutSeconds, retry: retry, marks: marks,
                         stopGraceSeconds: stopGraceSeconds, cleanup: cleanup)
    }

    /// The file whose lock the bot with `pid` holds for as long as any process of it lives.
    func lock(of pid: pid_t) -> URL {
        URL(fileURLWithPath: "\(stamps.path).\(pid).lock")
    }

    struct Run: Equatable, Sendable {
        var jobID: Int64
        var account: String
        var attempt: Int
        var pid: pid_t
        var tag: String
        var start: UInt64
        var end: UInt64?
    }

    /// Every run recorded so far, in order of start.
    func runs() -> [Run] {
        let text = (try? String(contentsOf: stamps, encoding: .utf8)) ?? ""
        var runs: [pid_t: Run] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 7, let time = UInt64(fields[1]), let jobID = Int64(fields[2]),
                  let attempt = Int(fields[4]), let pid = pid_t(fields[5])
            else { continue }
            if fields[0] == "start" {
                runs[pid] = Run(jobID: jobID, account: fields[3], attempt: attempt, pid: pid, tag: fields[6],
                                start: time)
            } else {
                runs[pid]?.end = time
            }
        }
        return runs.values.sorted { $0.start < $1.start }
    }

    /// The most runs matching `filter` that were ever running at one instant.
    static func peakOverlap(_ runs: [Run], where filter: (Run) -> Bool = { _ in true }) -> Int {
        // At equal times an end comes before a start: back-to-back runs do not overlap.
        var edges: [(time: UInt64, change: Int)] = []
        for run in runs where filter(run) {
            edges.append((run.start, 1))
            edges.append((run.end ?? UInt64.max, -1))
        }
        edges.sort { $0.time != $1.time ? $0.time < $1.time : $0.change < $1.change }
        var now = 0
        var peak = 0
        for (_, change) in edges {
            now += change
            peak = max(peak, now)
        }
        return peak
    }
}
