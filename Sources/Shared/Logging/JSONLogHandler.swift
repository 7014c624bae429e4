import Foundation
import Logging
import Synchronization

/// Writes each log record as one line of JSON: `time` (ISO-8601, UTC, milliseconds), `level`,
/// `label`, `message`, `source`, then the metadata under its own keys (`job.id`, `bot.name`, …;
/// nested metadata as JSON objects and arrays), for log collectors that index fields.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// A handler for `label` whose lines go to `write` (one call per record, with its newline).
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    /// A handler writing to standard error, as `LoggingSystem.bootstrap` wants it.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in
            standardErrorLock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
        }
    }

    private static let standardErrorLock = Mutex(())

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [:]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let recorded = event.metadata { merged.merge(recorded) { $1 } }
        for (key, value) in merged { fields[key] = Self.json(value) }
        // The record's own fields win over metadata of the same name.
        fields["time"] = Date().formatted(Self.timeFormat)
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        fields["source"] = event.source
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys,
                                                                                     .withoutEscapingSlashes])
        else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

/// How a program writes its logs: `text` (swift-log's default lines) or `json`.
public enum LogFormat: String, CaseIterable, Sendable {
    case text
    case json

    /// Sets up swift-log for the whole process.
    public func bootstrap() {
        switch self {
        case .text: LoggingSystem.bootstrap(StreamLogHandler.standardError)
        case .json: LoggingSystem.bootstrap { JSONLogHandler.standardError(label: $0) }
        }
    }
}
