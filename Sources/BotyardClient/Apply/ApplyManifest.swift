import Foundation
import Shared
import Yams

/// A file for `botyard apply -f`: the definitions that should exist on the dispatcher, in
/// YAML, one section per ``ResourceKind`` holding a list of entries written as the API takes
/// them. Credentials name where their password comes from (`passwordEnv` or `passwordFile`),
/// never the password itself.
///
/// Read whole before anything is sent: every problem of the file is found, each with its line.
public struct ApplyManifest: Sendable {
    public var resources: [DesiredResource]

    /// - Parameter environment: where `passwordEnv` names are looked up.
    public init(yaml text: String, environment: [String: String]) throws(ManifestProblems) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ManifestProblems([ManifestProblem(line: nil, message: "not YAML: \(error)")])
        }
        var resources: [DesiredResource] = []
        var problems: [ManifestProblem] = []
        let kinds = ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let sections = root?.mapping else {
            throw ManifestProblems([ManifestProblem(line: root?.mark?.line,
                                                    message: "expected sections by kind (\(kinds)), each a list")])
        }
        for (key, value) in sections {
            guard let kind = key.string.flatMap(ResourceKind.init(rawValue:)) else {
                problems.append(ManifestProblem(line: key.mark?.line,
                                                message: "unknown section '\(key.string ?? "?")'; one of \(kinds)"))
                continue
            }
            if value.null != nil { continue }
            guard let entries = value.sequence else {
                problems.append(ManifestProblem(line: value.mark?.line, message: "\(kind.rawValue) must be a list"))
                continue
            }
            var seen: Set<String> = []
            for (index, entry) in entries.enumerated() {
                let line = entry.mark?.line
                do {
                    let read = try EntryReader(node: entry, environment: environment).read(kind)
                    let label = "\(kind.rawValue)[\(index)] '\(read.resource.name)'"
                    if !seen.insert(read.resource.name).inserted {
                        problems.append(ManifestProblem(line: line, message: "\(label): named twice in the file"))
                    }
                    problems += read.problems.map { ManifestProblem(line: line, message: "\(label): \($0)") }
                    resources.append(read.resource)
                } catch let error as EntryReader.Failure {
                    problems.append(ManifestProblem(line: error.line ?? line,
                                                    message: "\(kind.rawValue)[\(index)]: \(error.message)"))
                } catch {
                    problems.append(ManifestProblem(line: line, message: "\(kind.rawValue)[\(index)]: \(error)"))
                }
            }
        }
        guard problems.isEmpty else { throw ManifestProblems(problems) }
        self.resources = resources.sorted { $0.kind < $1.kind }
    }
}

/// One entry of the file: what it should be on the dispatcher, and the request that makes it so.
public struct DesiredResource: Sendable {
    public var kind: ResourceKind
    public var name: String
    /// The line of its entry in the file.
    public var line: Int
    /// As the dispatcher would store it.
    var state: ResourceState
    /// The body of ``ResourceKind/writeRequest(name:)``.
    var body: Data
}

/// A problem of the file, at its line.
public struct ManifestProblem: Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var message: String

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// A file refused whole, with every problem it has.
public struct ManifestProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [ManifestProblem]

    init(_ problems: [ManifestProblem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// A credential as the file names it: where its password comes from, never the password.
struct CredentialReference: Codable {
    var host: String
    var account: String
    var username: String
    /// An environment variable holding the password.
    var passwordEnv: String?
    /// A file holding the password (its first line).
    var passwordFile: String?
}
