/// An order from the dispatcher to workers on `botyard.control`.
public struct ControlMessage: Codable, Sendable, Equatable {
    public enum Command: String, Codable, Sendable {
        /// Stop the job if it runs here, and do not start it if it arrives later.
        case cancel
        /// Stop one run of the job, `runID`: a copy of a message that no longer counts (superseded
        /// or published twice). The job itself goes on.
        case stopRun
        /// Freeze the job's bot (SIGSTOP to its process group); its timeout clock stops too.
        case pause
        /// Thaw a paused bot (SIGCONT); its timeout clock goes on from where it stopped.
        case resume
        /// An operator cleared the hold of `account` (a cleanup that failed): it takes jobs again.
        /// Not about a job: `jobID` is 0.
        case clearHold
        /// The answer to the worker's ``CredentialRequest`` for the job (`credentialReply`).
        case credential
    }

    public var command: Command
    /// The job the order is about; 0 for an order about an account (`clearHold`).
    public var jobID: Int64
    /// The run to stop (`stopRun` only).
    public var runID: String?
    /// The account whose hold is cleared (`clearHold` only).
    public var account: String?
    /// The answer to a credential request (`credential` only).
    public var credentialReply: CredentialReply?

    public init(command: Command, jobID: Int64, runID: String? = nil, account: String? = nil,
                credentialReply: CredentialReply? = nil) {
        self.command = command
        self.jobID = jobID
        self.runID = runID
        self.account = account
        self.credentialReply = credentialReply
    }
}
