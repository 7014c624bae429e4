import Foundation
import Shared
import Yams

/// Reads one entry of an apply file as its kind's API type: its name, what the dispatcher would
/// store, the request body, and its problems (fields the type does not know among them).
struct EntryReader {
    var node: Node
    var environment: [String: String]

    /// An entry that cannot be read as its kind, at the line of the field that is wrong.
    struct Failure: Error {
        var line: Int?
        var message: String
    }

    /// A group's name beside its settings.
    private struct Named: Codable { var name: String }

    func read(_ kind: ResourceKind) throws -> (resource: DesiredResource, problems: [String]) {
        func made(_ name: String, _ state: some Encodable, _ body: some Encodable, _ problems: [String],
                  fields: some Encodable) throws -> (DesiredResource, [String]) {
            let resource = DesiredResource(kind: kind, name: name, line: node.mark?.line ?? 0,
                                           state: try ResourceState(state), body: try JSONCodec.encode(body))
            return (resource, try unknownFields(besides: fields) + problems)
        }
        switch kind {
        case .calendars:
            let calendar = try decode(WorkingDayCalendar.self)
            return try made(calendar.name, calendar, calendar, calendar.problems, fields: calendar)
        case .bots:
            let request = try decode(CreateBotRequest.self)
            let definition = request.definition
            return try made(request.name, definition, request, definition.problems, fields: request)
        case .groups:
            let name = try decode(Named.self).name, settings = try decode(GroupSettings.self)
            let state = GroupState(maxQueued: settings.maxQueued, launchAdmission: settings.launchAdmission.effective)
            let problems = (Names.isValidGroup(name) ? [] : [Names.groupRule]) + settings.problems
            return try made(name, state, settings, problems, fields: GroupFields(name: name, settings: settings))
        case .credentials:
            let reference = try decode(CredentialReference.self)
            let (password, problems) = self.password(of: reference)
            return try made("\(reference.host)/\(reference.account)", CredentialState(username: reference.username),
                            AccountCredential(username: reference.username, password: password ?? ""), problems,
                            fields: reference)
        case .queues:
            let queue = try decode(WorkQueueDefinition.self)
            return try made(queue.name, queue, queue, queue.problems, fields: queue)
        case .pipelines:
            let pipeline = try decode(PipelineDefinition.self)
            return try made(pipeline.name, pipeline, pipeline, pipeline.problems, fields: pipeline)
        case .workflows:
            let workflow = try decode(WorkflowDefinition.self)
            // Whether its bots exist is the dispatcher's to say.
            return try made(workflow.name, workflow, workflow, workflow.problems { _ in true }, fields: workflow)
        case .triggers:
            let trigger = try decode(QueueTriggerDefinition.self)
            return try made(trigger.queue, trigger, trigger, trigger.problems, fields: trigger)
        case .schedules:
            let schedule = try decode(ScheduleDefinition.self)
            return try made(schedule.name, schedule, schedule, schedule.problems, fields: schedule)
        }
    }

    /// A group's fields: its name and its settings'.
    private struct GroupFields: Encodable {
        var name: String
        var settings: GroupSettings

        func encode(to encoder: any Encoder) throws {
            try settings.encode(to: encoder)
            try Named(name: name).encode(to: encoder)
        }
    }

    private func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        do {
            return try YAMLDecoder().decode(type, from: node)
        } catch let error as DecodingError {
            throw Failure(line: line(at: Self.codingPath(of: error)), message: JSONCodec.describe(error))
        } catch {
            throw Failure(line: node.mark?.line, message: "\(error)")
        }
    }

    /// The entry's fields that its type did not read: a misspelt field is an error, not a default.
    private func unknownFields(besides read: some Encodable) throws -> [String] {
        let known = Set((try JSONSerialization.jsonObject(with: JSONCodec.encode(read)) as? [String: Any] ?? [:]).keys)
        return (node.mapping ?? [:]).compactMap { key, value -> String? in
            guard let name = key.string, !known.contains(name), value.null == nil else { return nil }
            return "unknown field '\(name)' (line \(key.mark?.line ?? 0))"
        }
    }

    private func password(of reference: CredentialReference) -> (String?, [String]) {
        switch (reference.passwordEnv, reference.passwordFile) {
        case (let variable?, nil):
            guard let password = environment[variable], !password.isEmpty else {
                return (nil, ["passwordEnv: the environment variable \(variable) is not set"])
            }
            return (password, [])
        case (nil, let file?):
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let password = text.split(separator: "\n", omittingEmptySubsequences: false).first,
                  !password.isEmpty else {
                return (nil, ["passwordFile: cannot read a password from \(file)"])
            }
            return (String(password), [])
        default:
            return (nil, ["name exactly one of passwordEnv and passwordFile (never the password itself)"])
        }
    }

    private static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
             .valueNotFound(_, let context):
            context.codingPath
        @unknown default:
            []
        }
    }

    /// The line of the deepest node `path` reaches in the entry.
    private func line(at path: [any CodingKey]) -> Int? {
        var current = node
        for key in path {
            if let index = key.intValue, let sequence = current.sequence, index < sequence.count {
                current = sequence[index]
            } else if let value = current.mapping?[key.stringValue] {
                current = value
            } else {
                break
            }
        }
        return current.mark?.line
    }
}
