import Foundation

/// A submission is read, and its answer written, for every `POST /v1/jobs`: by hand
/// (``JSONReadable``, ``JSONWritable``).
extension SubmitJobRequest: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(bot: try object.decode("bot"), group: try object.decode("group"),
                  priority: try object.decodeIfPresent("priority"),
                  environment: try object.decodeIfPresent("environment"), inputs: try object.decodeIfPresent("inputs"),
                  account: try object.decodeIfPresent("account"),
                  timeoutSeconds: try object.decodeIfPresent("timeoutSeconds"),
                  retry: try object.decodeIfPresent("retry"), launchMethod: try object.decodeIfPresent("launchMethod"),
                  initiator: try object.decodeIfPresent("initiator"),
                  admission: try object.decodeIfPresent("admission"),
                  host: try object.decodeIfPresent("host"), robotQueue: try object.decodeIfPresent("robotQueue"))
    }
}

/// A batch is read, and its answer written, by hand too: 1,000 submissions a request.
extension SubmitJobBatchRequest: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        self.init(jobs: try json.object().decode("jobs"))
    }
}

extension JobBatchCreated: JSONWritable, JSONReadable {
    public func write(to writer: inout JSONObjectWriter) {
        writer.field("jobs", objects: jobs)
    }

    public init(json: JSONNode) throws(JSONMismatch) {
        self.init(jobs: try json.object().decode("jobs"))
    }
}

/// What a client reads of each job it submits (the bench's load generators, a thousand a batch).
extension JobCreated: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(id: try object.decode("id"), state: try object.decode("state"))
    }
}

extension JobState: JSONReadable {}

extension RobotQueuePolicy: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(waitSeconds: try object.decode("waitSeconds"), maxAttempts: try object.decode("maxAttempts"))
    }
}

extension LaunchMethod: JSONReadable {}
extension AdmissionMode: JSONReadable {}

extension JobCreated: JSONWritable {
    /// Keys in sorted order, as ``JSONCodec`` writes them.
    public func write(to writer: inout JSONObjectWriter) {
        writer.field("id", id)
        writer.field("state", state.rawValue)
    }
}
