import Foundation
import Shared

/// A test bot for pipelines and workflows, steered by its inputs: `TAG` names the run in its
/// stamps, `SECONDS` how long it works, `FAIL_ATTEMPTS` how many first attempts fail (exit 3),
/// `OUTPUT` a `KEY=VALUE` line it writes to its outputs, `BUSINESS` the reason of a business
/// exception it raises (exit 1 with `BUSINESS_EXCEPTION=<reason>` in its outputs), `GATE` a file it
/// waits for before it ends. It stamps `start`/`end` lines
/// (`<what> <ns> <tag> <attempt> <pid>`) and a `var <tag> KEY=VALUE` line for each `BOTYARD_VAR_` variable it saw.
struct FlowBot: Sendable {
    let script: URL
    let stampFile: URL

    init(folder: URL) throws {
        script = folder.appendingPathComponent("flow-bot.sh")
        stampFile = folder.appendingPathComponent("flow-stamps")
        try """
        #!/bin/sh
        stamps=$1
        line() { echo "$1 $(date +%s%N) $BOTYARD_INPUT_TAG $BOTYARD_ATTEMPT $$" >> "$stamps"; }
        line start
        env | grep '^BOTYARD_VAR_' | sort | sed "s/^BOTYARD_VAR_/var $BOTYARD_INPUT_TAG /" >> "$stamps"
        sleep "${BOTYARD_INPUT_SECONDS:-0}" &
        wait $!
        while [ -n "$BOTYARD_INPUT_GATE" ] && [ ! -e "$BOTYARD_INPUT_GATE" ]; do sleep 0.05; done
        if [ -n "$BOTYARD_INPUT_OUTPUT" ]; then echo "$BOTYARD_INPUT_OUTPUT" >> "$BOTYARD_OUTPUT"; fi
        line end
        if [ -n "$BOTYARD_INPUT_BUSINESS" ]; then echo "BUSINESS_EXCEPTION=$BOTYARD_INPUT_BUSINESS" >> "$BOTYARD_OUTPUT"; exit 1; fi
        if [ "$BOTYARD_ATTEMPT" -le "${BOTYARD_INPUT_FAIL_ATTEMPTS:-0}" ]; then exit 3; fi
        exit 0
        """.write(to: script, atomically: true, encoding: .utf8)
    }

    /// The bot's definition: one attempt unless `attempts` says more, 200 ms between them; 1 s
    /// to stop politely (it does not look at its stop file).
    func bot(_ name: String = "flow-bot", attempts: Int = 1) -> CreateBotRequest {
        CreateBotRequest(name: name, argv: ["/bin/sh", script.path, stampFile.path], timeoutSeconds: 120,
                         retry: .fixed(maxAttempts: attempts, waitMilliseconds: 200), stopGraceSeconds: 1)
    }

    /// A step's inputs.
    static func inputs(_ tag: String, seconds: Double = 0, failAttempts: Int = 0, output: String? = nil,
                       business: String? = nil, gate: URL? = nil) -> [String: String] {
        var inputs = ["TAG": tag, "SECONDS": String(seconds), "FAIL_ATTEMPTS": String(failAttempts)]
        inputs["OUTPUT"] = output
        inputs["BUSINESS"] = business
        inputs["GATE"] = gate?.path
        return inputs
    }

    struct Stamp: Equatable, Sendable {
        var what: String
        var time: UInt64
        var tag: String
        var attempt: Int
        var pid: pid_t
    }

    /// Every start and end stamped so far, in order.
    func stamps() -> [Stamp] {
        lines().compactMap { fields in
            guard fields.count == 5, fields[0] == "start" || fields[0] == "end", let time = UInt64(fields[1]),
                  let attempt = Int(fields[3]), let pid = pid_t(fields[4]) else { return nil }
            return Stamp(what: fields[0], time: time, tag: fields[2], attempt: attempt, pid: pid)
        }
    }

    func starts(_ tag: String? = nil) -> [Stamp] { stamps().filter { $0.what == "start" && (tag == nil || $0.tag == tag) } }
    func ends(_ tag: String? = nil) -> [Stamp] { stamps().filter { $0.what == "end" && (tag == nil || $0.tag == tag) } }

    /// The `BOTYARD_VAR_` variables the run tagged `tag` saw, as `KEY=VALUE` (prefix dropped).
    func variables(of tag: String) -> [String] {
        let text = (try? String(contentsOf: stampFile, encoding: .utf8)) ?? ""
        let prefix = "var \(tag) "
        return text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    private func lines() -> [[String]] {
        let text = (try? String(contentsOf: stampFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }
}
