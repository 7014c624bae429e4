/// An order from the dispatcher to workers on `botyard.control`.
public struct ControlMessage: Codable, Sendable, Equatable {
    public enum Command: String, Codable, Sendable {
        /// Stop the job if it runs here, and do not start it if it arrives later.
        case cancel
    }

    public var command: Command
    public var jobID: Int64

    public init(command: Command, jobID: Int64) {
        self.command = command
        self.jobID = jobID
    }
}
