/// A runner group's admission mode for each launch method, for launches that name none: Kofax
/// decides by how a robot was started, not by what the caller asks for.
///
/// Written in JSON as an object keyed by launch method (`{"manual": "queue", "api": "sync"}`)
/// holding the group's own entries only; a method without one takes ``defaultMode(for:)``.
public struct LaunchAdmissionTable: Sendable, Equatable {
    /// The group's own entries, in place of the defaults.
    public var overrides: [LaunchMethod: AdmissionMode]

    public init(_ overrides: [LaunchMethod: AdmissionMode] = [:]) {
        self.overrides = overrides
    }

    /// Kofax's table: scheduled and orchestrated launches wait (its Management Console queue), API
    /// launches wait up to `maxQueued` (its RoboServer queue), a person's run-now launch is never
    /// queued ("No slots available" at once). A job a bot starts is an API call made from inside a
    /// job, so it is `bounded` like one.
    public static func defaultMode(for method: LaunchMethod) -> AdmissionMode {
        switch method {
        case .schedule, .queueTrigger, .pipeline, .workflow: .queue
        case .api, .botStartedByBot: .bounded
        case .manual: .sync
        }
    }

    /// The mode a launch started by `method` gets when it names none.
    public func mode(for method: LaunchMethod) -> AdmissionMode {
        overrides[method] ?? Self.defaultMode(for: method)
    }

    /// Every launch method with the mode it gets.
    public var effective: [LaunchMethod: AdmissionMode] {
        Dictionary(uniqueKeysWithValues: LaunchMethod.allCases.map { ($0, mode(for: $0)) })
    }

    /// Sets the entry written `method=mode` (`manual=queue`), as the command line takes it.
    /// - Throws: ``RefusedValue`` for another shape, an unknown method or mode.
    public mutating func set(_ entry: String) throws(RefusedValue) {
        let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw RefusedValue("expected METHOD=MODE, e.g. manual=queue") }
        let method = try Self.method(named: String(parts[0]))
        overrides[method] = try Self.mode(named: String(parts[1]), for: method)
    }

    /// The launch method spelled `name` (`queue-trigger`).
    /// - Throws: ``RefusedValue`` naming the methods there are.
    public static func method(named name: String) throws(RefusedValue) -> LaunchMethod {
        guard let method = LaunchMethod(rawValue: name) else {
            throw RefusedValue("unknown launch method '\(name.prefix(64))'; one of "
                               + LaunchMethod.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return method
    }

    /// The admission mode spelled `name`, as the entry of `method`.
    /// - Throws: ``RefusedValue`` naming the modes there are.
    public static func mode(named name: String, for method: LaunchMethod) throws(RefusedValue) -> AdmissionMode {
        guard let mode = AdmissionMode(rawValue: name) else {
            throw RefusedValue("unknown admission mode '\(name.prefix(64))' for \(method.rawValue); one of "
                               + AdmissionMode.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return mode
    }
}

extension LaunchAdmissionTable: Codable {
    private struct MethodKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// - Throws: a `DecodingError` whose underlying error is a ``RefusedValue`` for an unknown
    ///   method or mode, so that the API answers 422 with the entry's path.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: MethodKey.self)
        var overrides: [LaunchMethod: AdmissionMode] = [:]
        for key in container.allKeys {
            let name = try container.decode(String.self, forKey: key)
            do {
                let method = try Self.method(named: key.stringValue)
                overrides[method] = try Self.mode(named: name, for: method)
            } catch {
                throw DecodingError.dataCorrupted(DecodingError.Context(
                    codingPath: container.codingPath + [key], debugDescription: error.reason, underlyingError: error))
            }
        }
        self.init(overrides)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: MethodKey.self)
        for (method, mode) in overrides {
            try container.encode(mode, forKey: MethodKey(stringValue: method.rawValue))
        }
    }
}
