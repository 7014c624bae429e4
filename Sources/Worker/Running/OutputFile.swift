import Shared

/// The `KEY=VALUE` file a bot may write its outputs to (`BOTYARD_OUTPUT`).
enum OutputFile {
    static let maximumBytes = 64 * 1024

    /// Parses the lines that are `KEY=VALUE` with a valid variable name; a later line wins.
    /// Other lines (blank, comments, garbage) are ignored.
    static func parse(_ text: String) -> [String: String] {
        var outputs: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingWhitespace
            guard Names.isValidVariable(key) else { continue }
            outputs[key] = String(line[line.index(after: equals)...])
        }
        return outputs
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
