/// An order from the dispatcher to workers on `botyard.control`.
public struct ControlMessage: Codable, Sendable, Equatable {
    public enum Command: String, Codable, Sendable {
        /// Stop the job if it runs here, and do not start it if it arrives later.
        case cancel
        /// Stop one run of the job, `runID`: a copy of a message that no longer counts (superseded
        /// or published twice). The job itself goes on.
        case stopRun
    }

    public var command: Command
    public var jobID: Int64
    /// The run to stop (`stopRun` only).
    public var runID: String?

    public init(command: Command, jobID: Int64, runID: String? = nil) {
        self.command = command
        self.jobID = jobID
        self.runID = runID
    }
}
