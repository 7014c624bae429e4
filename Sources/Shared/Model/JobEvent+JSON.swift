import Foundation

/// A report is written by a worker and read by the dispatcher for every start and end of a bot:
/// by hand, the same text as through `Codable` (``JSONReadable``, ``JSONWritable``).
extension JobEvent: JSONReadable, JSONWritable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(eventID: try object.decode("eventID"), kind: try object.decode("kind"),
                  jobID: try object.decode("jobID"), attempt: try object.decode("attempt"),
                  envelopeAttempt: try object.decode("envelopeAttempt", as: Int.self),
                  runID: try object.decode("runID"), workerID: try object.decode("workerID"),
                  host: try object.decode("host"), account: try object.decodeIfPresent("account"),
                  at: try object.decode("at"), outcome: try object.decodeIfPresent("outcome"),
                  startedAt: try object.decodeIfPresent("startedAt"))
    }

    /// Keys in sorted order, as ``JSONCodec`` writes them.
    public func write(to writer: inout JSONObjectWriter) {
        writer.field("account", ifPresent: account)
        writer.field("at", at)
        writer.field("attempt", attempt)
        writer.field("envelopeAttempt", envelopeAttempt)
        writer.field("eventID", eventID)
        writer.field("host", host)
        writer.field("jobID", jobID)
        writer.field("kind", kind.rawValue)
        writer.field("outcome", objectIfPresent: outcome)
        writer.field("runID", runID)
        if let startedAt { writer.field("startedAt", startedAt) }
        writer.field("workerID", workerID)
    }
}

extension JobEvent.Kind: JSONReadable {}

extension JobOutcome: JSONReadable, JSONWritable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(result: try object.decode("result"), exitCode: try object.decodeIfPresent("exitCode"),
                  signal: try object.decodeIfPresent("signal"), reason: try object.decode("reason"),
                  outputs: try object.decode("outputs"), log: try object.decode("log"),
                  durationMilliseconds: try object.decode("durationMilliseconds"))
    }

    /// Keys in sorted order, as ``JSONCodec`` writes them.
    public func write(to writer: inout JSONObjectWriter) {
        writer.field("durationMilliseconds", durationMilliseconds)
        if let exitCode { writer.field("exitCode", Int64(exitCode)) }
        writer.field("log", log)
        writer.field("outputs", outputs)
        writer.field("reason", reason)
        writer.field("result", result.rawValue)
        if let signal { writer.field("signal", Int64(signal)) }
    }
}

extension JobOutcome.Result: JSONReadable {}
