/// A cleanup an account owes after a run of a bot: the command, and the run it follows (for the job's
/// history). Kept in the run's record under the work directory until the cleanup has run, so that a
/// worker taking the account over after a crash runs it too.
struct PendingCleanup: Codable, Sendable, Equatable {
    /// The bot's cleanup command, or the account's.
    var argv: [String]
    var jobID: Int64
    /// The attempt the bot was told.
    var attempt: Int
    var envelopeAttempt: Int
    var runID: String
    var bot: String
}
