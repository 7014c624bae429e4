/// Whether an account must run its cleanup command after a run, before it takes its next job: the run
/// was stopped (timeout, cancel, shutdown, a copy that must not go on) or killed by a signal, so the
/// bot may have left the account's GUI session half-driven. A bot that exits on its own — success,
/// failure or business exception — leaves the account as it chose to.
enum CleanupTrigger {
    static func isNeeded(stopReason: RunControl.StopReason?, termination: BotProcess.Termination) -> Bool {
        if stopReason != nil { return true }
        if case .signalled = termination { return true }
        return false
    }
}
