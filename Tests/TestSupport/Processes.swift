import Foundation

/// Whether a process exists and is not a zombie (a killed orphan may wait for a reaper that a
/// container's init does not run).
public func isRunning(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Waits, without holding a thread, until `isGone()` or `timeout` passes; returns whether it is gone.
///
/// Tests run in parallel on a cooperative pool of one thread per core, which also serves the
/// in-process dispatchers that bots call back: a test that blocked a thread while a process
/// stopped (`usleep`, `waitUntilExit()`) would hold up every other test's dispatcher with it.
@discardableResult
public func waitUntilGone(timeout: Duration, poll: Duration = .milliseconds(20),
                          _ isGone: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !isGone() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: poll)
    }
    return true
}

/// Runs `body`, then `teardown`, also when `body` throws: a `defer` that can await.
public func withTeardown<Result>(_ body: () async throws -> Result,
                                 teardown: () async -> Void) async throws -> Result {
    let result: Result
    do {
        result = try await body()
    } catch {
        await teardown()
        throw error
    }
    await teardown()
    return result
}
