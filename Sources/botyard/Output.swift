import ArgumentParser
import Foundation
import Shared

/// How a command prints what it got: tables and text for people, or the API's answer as JSON
/// for scripts (`--output json`).
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
    case table
    case json
}

extension Connection {
    /// Prints `answer` as JSON with `--output json`; else runs `render`, which prints it for people.
    func show<Answer: Encodable>(_ answer: Answer, _ render: () throws -> Void) throws {
        switch output {
        case .json: print(try Self.json(answer))
        case .table: try render()
        }
    }

    /// Prints the result of a command the API answers without a body (a deletion, a stored
    /// credential): the message, or `{"message": …}` with `--output json`.
    func say(_ message: String) throws {
        try show(["message": message]) { print(message) }
    }

    /// `value` as the API encodes it (ISO-8601 times, sorted keys), indented.
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONCodec.makeEncoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
