#if canImport(Glibc)
import Glibc
#endif

/// What the worker does, in order, to stop a running bot; a pure plan, carried out by ``BotRunner``.
///
/// Every stop first creates the bot's stop file (`BOTYARD_STOP_FILE`) and continues its process group
/// (a bot frozen by a pause acts on nothing until it is thawed). A polite stop — an operator's or a
/// pipeline's cancel, the worker's shutdown — then gives the bot its stop grace to finish its step and
/// exit on its own; only then SIGTERM, and SIGKILL after the termination grace. A timeout, a copy of
/// a run that must not go on, or a run whose delivery went back to its queue (another worker may run the
/// job already) is terminated at once (SIGTERM, then SIGKILL).
enum StopSequence {
    enum Step: Equatable, Sendable {
        case createStopFile
        /// SIGCONT to the group: a paused bot can act on the stop file and on signals.
        case continueGroup
        case wait(Duration)
        case signal(Int32)
    }

    static func steps(for reason: RunControl.StopReason, stopGrace: Duration,
                      terminationGrace: Duration) -> [Step] {
        var steps: [Step] = [.createStopFile, .continueGroup]
        if isPolite(reason) && stopGrace > .zero { steps.append(.wait(stopGrace)) }
        steps += [.signal(SIGTERM), .wait(terminationGrace), .signal(SIGKILL)]
        return steps
    }

    /// Whether the bot is given its stop grace before SIGTERM.
    static func isPolite(_ reason: RunControl.StopReason) -> Bool {
        switch reason {
        case .cancelled, .shutdown: true
        case .timedOut, .superseded, .handedBack: false
        }
    }
}
